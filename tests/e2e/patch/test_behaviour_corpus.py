"""The synthesised attacks against the fixture corpus, whose exploits anvil replays elsewhere
(test_corpus_patched): where the attack synthesised from the finding works on the original, the
engine's first patch must block it and keep behaviour; and the synthesis must reach most cases of
the classes it has a shape for (a floor, so a regression that makes it inconclusive everywhere
fails instead of silently ranking nothing)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from tests.support.patchcase import load_corpus

from bulwark.patch import engine, ranking
from bulwark.patch.behaviour import Checker
from bulwark.patch.evm import PROBE_SOLC, PROBE_SOURCE
from bulwark.toolchain.solc import Compiler

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

SHAPED = {
    "reentrancy",
    "access-control",
    "tx-origin",
    "unprotected-selfdestruct",
    "integer-overflow",
    "front-running",
}
CASES = [c for c in load_corpus() if c.vuln_class in SHAPED]
REACHED_FLOOR = 0.6  # of the shaped cases with a patch, the share whose attack works on the original


@pytest.fixture(scope="module")
def compiler() -> Iterator[Compiler]:
    with Compiler() as c:
        yield c


@pytest.fixture(scope="module")
def outcomes(compiler: Compiler) -> dict[str, tuple[str, str, bool | None]]:
    """case -> (attack on the original, attack on the first patch, first patch kept behaviour)."""
    built = compiler.compile_sources({"Probe.sol": PROBE_SOURCE}, version=PROBE_SOLC, optimize=False)
    probe = next(c.bytecode for c in built.contracts if c.name == "BulwarkProbe")
    out: dict[str, tuple[str, str, bool | None]] = {}
    for case in CASES:
        request = engine.PatchRequest(sources=case.victim_sources, contract=case.contract, use_slither=False)
        analysis = engine.analyse(request, compiler)
        patches = engine.candidates(analysis, compiler).patches
        best = patches[0] if patches else None
        if best is None or best.attack is None or best.behaviour is None:
            continue
        attack, behaviour = best.attack, best.behaviour
        original = compiler.compile_sources(analysis.sources, version=analysis.result.version, optimize=False)
        art = next(
            c for c in original.contracts if c.name == best.contract and c.source_path in analysis.sources
        )
        flaw = {n for n in (best.function, *(f.function for f in best.findings)) if n}
        on_original = Checker(art, probe, art.storage_layout).attack(
            art, flaw, best.vuln_class, ranking.edited_functions(analysis, best)
        )
        out[case.name] = (on_original.outcome, attack.outcome, behaviour.kept)
    return out


def test_where_the_attack_works_on_the_original_the_first_patch_blocks_it(
    outcomes: dict[str, tuple[str, str, bool | None]],
) -> None:
    reached = {k: v for k, v in outcomes.items() if v[0] == "not-blocked"}
    assert reached, outcomes
    failing = {k: v for k, v in reached.items() if v[1] != "blocked" or v[2] is not True}
    assert not failing, failing


def test_the_synthesis_reaches_most_shaped_cases(outcomes: dict[str, tuple[str, str, bool | None]]) -> None:
    reached = sum(1 for v in outcomes.values() if v[0] == "not-blocked")
    assert reached >= REACHED_FLOOR * len(outcomes), outcomes
