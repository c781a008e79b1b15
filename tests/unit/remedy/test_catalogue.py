"""The catalogue from the solc AST: admin setters only, what they store, inferred classes."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from bulwark.remedy.catalogue import RemedyError, apply_declared, catalogue, infer_classes
from bulwark.toolchain.solc import Compiler

ROOT = Path(__file__).resolve().parents[3]

TOY = """// SPDX-License-Identifier: MIT
pragma solidity 0.8.26;
contract Toy {
    address public owner;
    uint256 public cap;
    uint256 public deposits;
    mapping(address => uint256) public balances;
    constructor() { owner = msg.sender; }
    modifier onlyOwner() { require(msg.sender == owner, "owner"); _; }
    function setCap(uint256 newCap) external onlyOwner { _store(newCap); }
    function _store(uint256 v) private { cap = v; }
    function setCapInline(uint256 newCap) external { require(msg.sender == owner, "owner"); cap = newCap; }
    function deposit(uint256 amount) external { balances[msg.sender] += amount; deposits += amount; }
    function noop() external onlyOwner {}
    function peek() external view onlyOwner returns (uint256) { return cap; }
}
"""


@pytest.fixture(scope="module")
def compiler() -> Iterator[Compiler]:
    with Compiler(root=ROOT) as c:
        yield c


def test_guarded_setters_are_found_with_the_variable_each_parameter_lands_in(compiler: Compiler) -> None:
    setters = {s.function: s for s in catalogue(compiler.compile_sources({"Toy.sol": TOY}), "Toy", "toy")}
    # deposit uses msg.sender as an identity, not a check; noop writes nothing; peek is a view
    assert set(setters) == {"setCap", "setCapInline"}
    assert setters["setCap"].guard == "owner"
    assert setters["setCapInline"].guard == "sender-check"
    assert setters["setCap"].params[0].stored_in == "cap"  # followed through the private _store
    assert setters["setCap"].writes == ("cap",)
    assert "invariant-break" in setters["setCap"].classes


def test_lending_market_setters(compiler: Compiler) -> None:
    result = compiler.compile_files([Path("contracts/protocol/LendingMarket.sol")])
    setters = {s.function: s for s in catalogue(result, "LendingMarket", "lending")}
    assert set(setters) == {"setOracle", "setRiskParams"}  # no upgrade, roles, pause, user functions
    risk = setters["setRiskParams"]
    assert risk.guard == "role:DEFAULT_ADMIN_ROLE"
    assert risk.signature == "setRiskParams(uint256,uint256,uint256,uint256)"
    assert [p.stored_in for p in risk.params] == [
        "ltvBps",
        "liquidationThresholdBps",
        "liquidationBonusBps",
        "closeFactorBps",
    ]
    assert "oracle-manipulation" in setters["setOracle"].classes


def test_declared_classes_confirm_and_unknown_setters_fail_closed(compiler: Compiler) -> None:
    setters = catalogue(compiler.compile_sources({"Toy.sol": TOY}), "Toy", "toy")
    out = {s.function: s for s in apply_declared(setters, {"toy.setCap": ["reentrancy"]})}
    assert out["setCap"].classes == ("reentrancy",) and out["setCap"].confirmed
    assert not out["setCapInline"].confirmed
    only = apply_declared(setters, {"toy.setCap": ["reentrancy"]}, only_declared=True)
    assert [s.function for s in only] == ["setCap"]
    with pytest.raises(RemedyError, match=r"toy\.setCapp"):
        apply_declared(setters, {"toy.setCapp": ["reentrancy"]})


def test_unknown_contract_is_an_error(compiler: Compiler) -> None:
    with pytest.raises(RemedyError, match="Nope"):
        catalogue(compiler.compile_sources({"Toy.sol": TOY}), "Nope", "toy")


def test_infer_classes_from_names() -> None:
    assert infer_classes("setOracle", ["oracle_"], ["oracle"]) == ("oracle-manipulation",)
    assert "front-running" in infer_classes("setFee", ["feeBps_"], ["feeBps"])
    assert infer_classes("setName", ["name_"], ["name"]) == ()
