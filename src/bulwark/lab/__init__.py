"""Runs of the scenario corpus and the demo against the product pipeline.

The lab deploys a reference protocol and stages a scenario's attack on a local chain, then hands the
incident to what a protocol team runs: containment (:mod:`bulwark.respond`) and the configuration-fed
incident pipeline (:mod:`bulwark.app.pipeline`). What only a staged run needs lives here, above
``bulwark.app``: the scenarios (:mod:`bulwark.scenarios`), the configuration a team would write for the
demo protocol (:mod:`.demo`), and the world's part in the run (benign traffic, the passing of a
timelock delay). ``bulwark.app`` never imports this package or ``bulwark.scenarios``.
"""
