"""``bulwark scenario``: list the attack corpus, run a scenario, generate benign traffic."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

import typer

from bulwark.errors import UsageError

if TYPE_CHECKING:
    from bulwark.scenarios.corpus import Scenario


def scenario_named(name: str) -> Scenario:
    """The corpus's scenario ``name``, or a usage error pointing at the list."""
    from bulwark.scenarios.corpus import load_corpus

    corpus = load_corpus()
    if name not in corpus.names():
        raise UsageError(f"unknown scenario {name!r}; see `bulwark scenario list`")
    return corpus.get(name)


def _usd(wei: int) -> str:
    return f"{wei / 10**18:,.2f} USD"


def _run_contain(name: str, benign_txs: int, seed: int, fix: bool, as_json: bool) -> None:
    """``--protect contain``: detection plus containment (bulwark.lab.contain)."""
    from bulwark.lab.contain import run_scenario_contain
    from bulwark.scenarios.runner import RunOptions

    out = run_scenario_contain(
        scenario_named(name), RunOptions(benign_txs=benign_txs, seed=seed, use_fix=fix)
    )
    if as_json:
        typer.echo(json.dumps(out))
        return
    typer.echo(f"scenario     {out['scenario']} ({out['class']}), implementation: {out['implementation']}")
    typer.echo("protection   contain")
    typer.echo(
        f"pause        {out['pause_tx']} ({out['pause_ordering']}), "
        f"{out['response_latency_ms']} ms after the attack reached the mempool"
    )
    typer.echo(f"attack       {len(out['attack_txs'])} txs ({len(out['reverted_attack_txs'])} reverted)")
    verdict = "SUCCEEDED" if out["attack_succeeded"] else "failed"
    typer.echo(f"loss         {_usd(out['loss_wei'])} ({out['loss_wei']} wei): attack {verdict}")


def _run_detect(name: str, benign_txs: int, seed: int, fix: bool, as_json: bool) -> None:
    """``--protect detect``: the scenario under mempool detection (bulwark.lab.protect)."""
    from bulwark.lab.protect import run_scenario_detect
    from bulwark.scenarios.runner import RunOptions

    out = run_scenario_detect(scenario_named(name), RunOptions(benign_txs=benign_txs, seed=seed, use_fix=fix))
    if as_json:
        typer.echo(json.dumps(out))
        return
    typer.echo(f"scenario     {out['scenario']} ({out['class']}), implementation: {out['implementation']}")
    typer.echo("protection   detect")
    if out["detected"]:
        when = "before inclusion" if out["detected_before_inclusion"] else "after inclusion"
        latency = out["detection_latency_ms"]
        typer.echo(
            f"detected     {when}"
            + (f", {latency} ms after the attack reached the mempool" if latency is not None else "")
            + f"; classes: {', '.join(out['finding_classes'])}"
        )
    else:
        typer.echo("detected     NO")
    verdict = "SUCCEEDED" if out["attack_succeeded"] else "failed"
    typer.echo(f"loss         {_usd(out['loss_wei'])} ({out['loss_wei']} wei): attack {verdict}")


def _run_full(
    name: str, benign_txs: int, seed: int, fix: bool, as_json: bool, remedy: str = "smallest"
) -> None:
    """``--protect full``: the product pipeline fed by the demo configuration (bulwark.lab.full)."""
    from pathlib import Path

    from bulwark.cli.demo import report_markdown, run_full

    if fix:
        raise UsageError("--fix and --protect full do not go together: the full loop writes its own fix")
    if remedy not in ("code", "parameters", "smallest"):
        raise UsageError(f"--remedy must be code, parameters or smallest, not {remedy!r}")
    out = run_full(
        name,
        db=None,
        benign_txs=benign_txs,
        seed=seed,
        regress=20,
        reports=Path("reports"),
        narrate=not as_json,
        remedy=remedy,
    )
    if as_json:
        typer.echo(json.dumps(out, default=str))
        return
    typer.echo(report_markdown(out))


def register(app: typer.Typer) -> None:
    scenario_app = typer.Typer(
        name="scenario",
        help="Attack scenarios against the demo protocol: list, run, benign traffic.",
        no_args_is_help=True,
    )

    @scenario_app.command("list")
    def list_(as_json: bool = typer.Option(False, "--json", help="Print a JSON array.")) -> None:
        """List the scenarios of the corpus."""
        from bulwark.scenarios.corpus import load_corpus

        corpus = load_corpus()
        rows = [{"name": s.name, "class": s.vuln_class.value, "description": s.description} for s in corpus]
        if as_json:
            typer.echo(json.dumps(rows))
            return
        width = max((len(s.name) for s in corpus), default=4)
        cwidth = max((len(s.vuln_class.value) for s in corpus), default=5)
        for s in corpus:
            typer.echo(f"{s.name:<{width}}  {s.vuln_class.value:<{cwidth}}  {s.title}")

    @scenario_app.command("run")
    def run_(
        name: str = typer.Argument(..., help="Scenario name (see `bulwark scenario list`)."),
        protect: str = typer.Option("none", "--protect", help="none | detect | contain | full."),
        benign_txs: int = typer.Option(
            30, "--benign-txs", min=0, help="Benign transactions before the attack."
        ),
        seed: int = typer.Option(0, "--seed", help="Seed of the benign traffic."),
        fix: bool = typer.Option(False, "--fix", help="Deploy the scenario's reference fix instead."),
        as_json: bool = typer.Option(False, "--json", help="Print one JSON object."),
        remedy: str = typer.Option(
            "smallest",
            "--remedy",
            help="--protect full: code | parameters | smallest (the smaller verified change wins).",
        ),
    ) -> None:
        """Fresh anvil, protocol with the vulnerable implementation, benign traffic, then the attack."""
        from bulwark.scenarios.runner import RunOptions, parse_protect, run_scenario

        if protect.strip().lower() == "contain":
            _run_contain(name, benign_txs, seed, fix, as_json)
            return
        if protect.strip().lower() == "detect":
            _run_detect(name, benign_txs, seed, fix, as_json)
            return
        if protect.strip().lower() == "full":
            _run_full(name, benign_txs, seed, fix, as_json, remedy.strip().lower())
            return
        level = parse_protect(protect)  # fails before anything starts
        scenario = scenario_named(name)
        result = run_scenario(
            scenario, RunOptions(protect=level, benign_txs=benign_txs, seed=seed, use_fix=fix)
        )
        if as_json:
            typer.echo(json.dumps(result.to_json()))
            return
        typer.echo(
            f"scenario     {result.scenario} ({result.vuln_class}), implementation: {result.implementation}"
        )
        typer.echo(f"protection   {result.protect}")
        b = result.benign
        typer.echo(f"benign       {b.txs} txs, {b.reverted} reverted, {b.seconds:.1f} s")
        reverted = len(result.reverted_attack_txs)
        typer.echo(
            f"attack       {len(result.attack_txs)} txs ({reverted} reverted), {result.attack_seconds:.1f} s"
        )
        for asset, units in sorted(result.drained.items()):
            if units:
                typer.echo(f"  drained    {units / 10**18:,.4f} {asset}")
        verdict = "SUCCEEDED" if result.attack_succeeded else "failed"
        typer.echo(f"loss         {_usd(result.loss_wei)} ({result.loss_wei} wei): attack {verdict}")

    @scenario_app.command("benign")
    def benign_(
        txs: int = typer.Option(..., "--txs", min=1, help="How many benign transactions to send."),
        seed: int = typer.Option(0, "--seed", help="Seed of the generator."),
        protect: str = typer.Option("none", "--protect", help="none | detect."),
        as_json: bool = typer.Option(False, "--json", help="Print one JSON object."),
    ) -> None:
        """Deploy the protocol on a fresh anvil and send N benign transactions."""
        from bulwark.scenarios.runner import run_benign_on_fresh_chain

        level = protect.strip().lower()
        if level == "detect":
            from bulwark.lab.protect import run_benign_detect

            out = run_benign_detect(txs, seed=seed)
            if as_json:
                typer.echo(json.dumps(out))
                return
            by = ", ".join(f"{n} {c}" for n, c in out["findings_by_severity"].items())
            typer.echo(f"{out['txs']} txs in {out['blocks']} blocks, {out['reverted']} reverted")
            typer.echo(f"screened     {out['screened']} pending txs ({out['simulated']} simulated)")
            typer.echo(f"findings     {by}")
            return
        if level != "none":
            raise UsageError(
                f"protect level {protect!r} is not available for benign traffic; use none or detect"
            )
        report = run_benign_on_fresh_chain(txs, seed=seed)
        if as_json:
            typer.echo(json.dumps(report.to_json()))
            return
        rate = report.txs / report.seconds if report.seconds else 0.0
        typer.echo(
            f"{report.txs} txs in {report.blocks} blocks, {report.reverted} reverted, "
            f"{report.seconds:.1f} s ({rate:.0f} tx/s)"
        )

    app.add_typer(scenario_app)
