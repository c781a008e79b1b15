"""The patch stage's conclusions (patched / abstained / clean / no-contract), the reasons it gives
for abstaining, and the bounds it puts on Slither and on candidate checks for large inputs."""

from __future__ import annotations

import importlib
from pathlib import Path

import pytest

from bulwark.domain import VulnClass
from bulwark.domain.patch import Localisation
from bulwark.patch import engine
from bulwark.patch.engine import PatchRequest, Status, analyse, candidates, confidence, status
from bulwark.toolchain.solc import Compiler

CONTRACTS = Path(__file__).parent / "contracts"


def _sources(name: str) -> dict[str, str]:
    return {name: (CONTRACTS / name).read_text()}


def test_a_finding_no_template_can_fix_is_an_abstention_with_the_reason(compiler: Compiler) -> None:
    custom = Localisation(
        detector="operator-report",
        vuln_class=VulnClass.CUSTOM,
        contract="Clean",
        function="bump",
        lines=(8,),
        score=0.9,
    )
    request = PatchRequest(sources=_sources("Clean.sol"), use_slither=False, extra_findings=(custom,))
    analysis = analyse(request, compiler)
    generation = candidates(analysis, compiler)
    assert generation.patches == []
    assert status(analysis, generation.patches) is Status.ABSTAINED
    [why] = [r for r in generation.rejected if r.function == "bump"]
    assert why.vuln_class == "custom" and "no fix template for custom" in why.reason


def test_clean_and_no_contract_are_told_apart(compiler: Compiler) -> None:
    clean = analyse(PatchRequest(sources=_sources("Clean.sol"), use_slither=False), compiler)
    assert status(clean, []) is Status.CLEAN
    iface = (
        "// SPDX-License-Identifier: MIT\npragma solidity 0.8.19;\ninterface I { function f() external; }\n"
    )
    empty = analyse(PatchRequest(sources={"I.sol": iface}, use_slither=False), compiler)
    assert status(empty, []) is Status.NO_CONTRACT


def test_candidate_confidence_is_localisation_times_validation(compiler: Compiler) -> None:
    analysis = analyse(PatchRequest(sources=_sources("OpenSetter.sol"), use_slither=False), compiler)
    generation = candidates(analysis, compiler)
    best = generation.patches[0]
    conf = confidence(best)
    assert conf.localisation == best.score and conf.validation == engine.STATIC_VALIDATION
    assert conf.value == round(best.score * engine.STATIC_VALIDATION, 3)
    assert status(analysis, generation.patches) is Status.PATCHED


def test_slither_is_skipped_above_the_function_bound_and_the_report_says_so(
    compiler: Compiler, monkeypatch: pytest.MonkeyPatch
) -> None:
    slither_mod = importlib.import_module("bulwark.patch.locate.slither")

    def boom(*_args: object) -> list[Localisation]:
        raise AssertionError("Slither must not run above the bound")

    monkeypatch.setattr(slither_mod, "slither_findings", boom)
    monkeypatch.setattr(engine, "SLITHER_MAX_FUNCTIONS", 1)
    analysis = analyse(PatchRequest(sources=_sources("OpenSetter.sol"), use_slither=True), compiler)
    assert any(n.startswith("slither skipped: ") and "functions" in n for n in analysis.notes)
    assert any(f.function == "resetFee" for f in analysis.findings)  # our own checks still ran


def test_candidate_checks_are_bounded_by_the_file_size(
    compiler: Compiler, monkeypatch: pytest.MonkeyPatch
) -> None:
    analysis = analyse(PatchRequest(sources=_sources("Legacy.sol"), use_slither=False), compiler)
    compiles: list[str] = []
    real = engine._compile

    def counting(*args: object, **kwargs: object) -> object:
        compiles.append(str(args[3] if len(args) > 3 else kwargs.get("outputs", "all")))
        return real(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(engine, "_compile", counting)
    unbounded = candidates(analysis, compiler)
    checks_unbounded = compiles.count("interface")
    assert checks_unbounded > 1, "the contract must have several candidates for the bound to matter"
    compiles.clear()
    monkeypatch.setattr(engine, "CHECK_BUDGET_FUNCTIONS", 0)
    monkeypatch.setattr(engine, "MIN_CHECKS", 1)
    bounded = candidates(analysis, compiler)
    assert compiles.count("interface") == 1
    assert bounded.patches and bounded.patches[0].diff == unbounded.patches[0].diff
    assert any("best-ranked candidates only" in n for n in bounded.notes)
