"""Slither in-process on solcjs output, for 0.4.x and 0.8.x (with OpenZeppelin through remappings)."""

from __future__ import annotations

from pathlib import Path

import pytest

from bulwark.toolchain.slither import analyze, analyze_sources, slither_for
from bulwark.toolchain.solc import Compiler

pytestmark = pytest.mark.e2e


def test_reentrancy_found_in_classic_0424_contract(compiler: Compiler, solidity_fixtures: Path) -> None:
    report = analyze(compiler, [solidity_fixtures / "Reentrancy.sol"], version="0.4.24")
    assert report.solc_version == "0.4.24"
    hits = report.by_check("reentrancy-eth")
    assert len(hits) == 1
    finding = hits[0]
    assert finding.impact == "High"
    fn = next(e for e in finding.elements if e.kind == "function")
    assert (fn.contract, fn.function) == ("EtherStore", "withdraw()")
    assert fn.source_path == "tests/fixtures/solidity/Reentrancy.sol" and 14 in fn.lines


def test_fixed_version_has_no_reentrancy(compiler: Compiler, solidity_fixtures: Path) -> None:
    report = analyze(compiler, [solidity_fixtures / "ReentrancyFixed.sol"], version="0.4.24")
    assert not [f for f in report.findings if f.check.startswith("reentrancy")]


def test_08_with_openzeppelin_imports(compiler: Compiler, solidity_fixtures: Path) -> None:
    report = analyze(compiler, [solidity_fixtures / "VaultUUPS.sol"])
    assert report.solc_version == "0.8.37"
    assert not report.by_check("reentrancy-eth")
    # findings located only in OpenZeppelin are dropped by default
    in_deps = [f for f in report.findings if all("node_modules" in (e.source_path or "") for e in f.elements)]
    assert not in_deps
    sl = slither_for(compiler, [solidity_fixtures / "VaultUUPS.sol"])
    vault = next(c for c in sl.contracts if c.name == "VaultUUPS")
    assert {f.name for f in vault.functions_declared} >= {"deposit", "initialize", "_authorizeUpgrade"}
    assert "UUPSUpgradeable" in {c.name for c in vault.inheritance}


def test_in_memory_sources_are_analysed(compiler: Compiler, solidity_fixtures: Path) -> None:
    text = (solidity_fixtures / "Reentrancy.sol").read_text()
    report = analyze_sources(compiler, {"Mem.sol": text}, version="0.4.24", detectors=["reentrancy-eth"])
    assert [f.check for f in report.findings] == ["reentrancy-eth"]
