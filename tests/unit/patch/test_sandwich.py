"""Sandwichable trades (issue 18, front-running): a trade priced by state it moves itself, with no
bound the trader passes, is localised from the AST; the bounded-move fix bounds every open entry
that moves that state, and only those."""

from __future__ import annotations

from bulwark.domain import VulnClass
from bulwark.patch import PatchRequest, generate, locate
from bulwark.patch.behaviour import Checker
from bulwark.patch.engine import analyse, candidates
from bulwark.patch.evm import PROBE_SOLC, PROBE_SOURCE
from bulwark.toolchain.solc import Compiler

from .conftest import HERE

MARKETS = HERE / "contracts" / "classes" / "Markets.sol"
UNIT = "contracts/classes/Markets.sol"


def _sandwich_findings(compiler: Compiler) -> dict[str, str | None]:
    found = locate(PatchRequest(paths=[MARKETS], use_slither=False), compiler=compiler)
    return {
        f.contract: f.function
        for f in found
        if f.vuln_class is VulnClass.FRONT_RUNNING and "sandwichable-trade" in f.detector
    }


def test_an_unbounded_market_is_found_and_bounded_or_share_or_one_way_pricing_is_not(
    compiler: Compiler,
) -> None:
    found = _sandwich_findings(compiler)
    # one finding per market, on its payable entry
    assert found == {"OpenPool": "buy", "EmptyCurve": "buy"}


def test_the_fix_bounds_every_open_entry_that_moves_the_market(compiler: Compiler) -> None:
    patches = generate(
        PatchRequest(paths=[MARKETS], contract="OpenPool", use_slither=False), compiler=compiler
    )
    bounded = [p for p in patches if p.template == "bounded-move" and p.contract == "OpenPool"]
    assert bounded, [p.template for p in patches]
    text = bounded[0].patched_sources[UNIT]
    pool = text[text.index("contract OpenPool") : text.index("contract BoundedPool")]
    headers = {
        ln.split("(")[0].split()[-1]: ln for ln in pool.splitlines() if ln.strip().startswith("function ")
    }
    assert "bulwarkBoundedMove" in headers["buy"] and "bulwarkBoundedMove" in headers["sell"]
    # the owner's top-up is not a trade anyone can place ahead of another: not bounded
    assert "bulwarkBoundedMove" not in headers["topUp"] and "bulwarkBoundedMove" not in headers["quote"]
    assert "_bulwarkOpen(0, reserveEth);" in pool and "_bulwarkWithin(1, reserveToken);" in pool
    assert "moved <= ref / 20 || ref == 0" in pool
    # only OpenPool is edited
    assert (
        text[text.index("contract BoundedPool") :]
        == MARKETS.read_text()[MARKETS.read_text().index("contract BoundedPool") :]
    )
    # the synthesised sandwich: a ten-ether buy ahead of a one-ether buy moves its price on the
    # original, and the candidate refuses it
    attack = bounded[0].attack
    assert attack is not None and (attack.shape, attack.outcome) == ("sandwich", "blocked"), attack
    behaviour = bounded[0].behaviour
    assert behaviour is not None and behaviour.checked
    # wherever the candidate differs from the original, it is a refusal on the market's entries
    assert all(c.expected and c.what == "reverts" for c in behaviour.changes), behaviour.changes


def test_a_market_that_starts_empty_gets_no_relative_bound_and_the_reason_says_so(compiler: Compiler) -> None:
    # a fresh curve's early trades move its supply by large fractions: a bound relative to its value
    # would refuse them, so the template abstains rather than break ordinary use
    analysis = analyse(PatchRequest(paths=[MARKETS], contract="EmptyCurve", use_slither=False), compiler)
    generation = candidates(analysis, compiler)
    assert not [p for p in generation.patches if p.template == "bounded-move"]
    [why] = [r for r in generation.rejected if r.contract == "EmptyCurve" and r.template == "bounded-move"]
    assert "supply starts at zero" in why.reason


def test_in_old_unchecked_code_the_first_patch_also_bounds_the_market(compiler: Compiler) -> None:
    # the pool's raw arithmetic is a finding too; checked math alone leaves the sandwich open, so the
    # market bound joins the first patch
    old = HERE / "contracts" / "classes" / "OldPool.sol"
    first = generate(PatchRequest(paths=[old], use_slither=False), compiler=compiler)[0]
    assert first.template == "checked-math-library+bounded-move"
    text = first.patched_sources["contracts/classes/OldPool.sol"]
    assert "bulwarkBoundedMove public payable" in text and "public bulwarkBoundedMove {" in text


def test_the_synthesised_sandwich_gets_through_an_unchanged_market(compiler: Compiler) -> None:
    built = compiler.compile_sources({UNIT: MARKETS.read_text()}, version="0.8.24", optimize=False)
    pool = next(c for c in built.contracts if c.name == "OpenPool")
    probe_build = compiler.compile_sources({"Probe.sol": PROBE_SOURCE}, version=PROBE_SOLC, optimize=False)
    probe = next(c.bytecode for c in probe_build.contracts if c.name == "BulwarkProbe")
    checker = Checker(pool, probe, pool.storage_layout)
    attack = checker.attack(pool, {"buy"}, VulnClass.FRONT_RUNNING)
    assert (attack.shape, attack.outcome) == ("sandwich", "not-blocked"), attack
    assert "buy()" in attack.detail
