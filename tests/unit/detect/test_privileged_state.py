"""Privileged state from the code (sources: AST + storage layout) and from the storage diff."""

from __future__ import annotations

from dataclasses import replace

import pytest
from tests.unit.detect.synth import ATTACKER, LENDING, TIMELOCK, USER, call, event, make_view, word

from bulwark.chain.eip1967 import IMPLEMENTATION_SLOT
from bulwark.detect.builtins.privileged_state import PrivilegedStateWrite
from bulwark.detect.codefacts import CodeFacts, contract_facts
from bulwark.detect.evm import selector
from bulwark.detect.model import ChainView
from bulwark.detect.statediff import mapping_slot
from bulwark.domain import Address
from bulwark.toolchain.solc import Compiler

SOURCE = """
// SPDX-License-Identifier: MIT
pragma solidity ^0.8.20;
import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";

contract Base {
    address internal steward;
    modifier onlySteward() { require(msg.sender == steward, "steward"); _; }
}

contract Treasury is Base, AccessControl {
    uint256 public fee;
    mapping(address => uint256) public credits;
    mapping(address => mapping(address => uint256)) public permits;
    mapping(address => bool) public operators;
    address public custodian;

    function custodianOf() public view returns (address) { return custodian; }
    function setFee(uint256 f) external onlySteward { fee = f; }
    function handOver(address s) external { _handOver(s); }
    function _handOver(address s) internal { steward = s; }
    function addOperator(address o) external { operators[o] = true; }
    function moveCustody(address c) external { custodian = c; }
    function sweep() external {
        require(operators[msg.sender], "operator");
        require(credits[msg.sender] > 0, "credit");
        if (msg.sender != custodianOf()) revert("custodian");
    }
    function deposit() external payable { credits[msg.sender] += msg.value; }
}
"""


@pytest.fixture(scope="module")
def facts() -> CodeFacts:
    with Compiler() as compiler:
        result = compiler.compile_sources({"Treasury.sol": SOURCE})
    return contract_facts(result, "Treasury")


def _slot_of(facts: CodeFacts, label: str) -> int:
    assert facts.labels is not None
    return next(s for s, n in facts.labels.items() if n == label)


def test_slots_read_in_access_checks_and_their_writers_come_from_the_code(facts: CodeFacts) -> None:
    steward, custodian = _slot_of(facts, "steward"), _slot_of(facts, "custodian")
    operators, roles = _slot_of(facts, "operators"), _slot_of(facts, "_roles")
    assert facts.privileged_slots == {steward, custodian}  # msg.sender == steward; != custodianOf()
    assert facts.privileged_maps == {operators, roles}  # operators[msg.sender] in a require; role map
    assert _slot_of(facts, "credits") in facts.balance_maps  # compared too, but a balance, not a role
    assert facts.allowance_maps == {_slot_of(facts, "permits")}
    names = {
        "handOver(address)",  # through an internal function
        "addOperator(address)",
        "moveCustody(address)",
        "grantRole(bytes32,address)",
        "revokeRole(bytes32,address)",
        "renounceRole(bytes32,address)",
    }
    assert facts.writers == {selector(n) for n in names}  # not setFee, sweep, deposit


def _with(view: ChainView, facts: CodeFacts) -> ChainView:
    info = replace(
        view.protocol.contracts[LENDING],
        privileged_slots=facts.privileged_slots,
        privileged_maps=facts.privileged_maps,
        slot_labels=dict(facts.labels or {}),
    )
    return ChainView(replace(view.protocol, contracts={**view.protocol.contracts, LENDING: info}), view.state)


def _w(v: int | Address) -> str:
    return "0x" + (int(v, 16) if isinstance(v, str) else v).to_bytes(32, "big").hex()


def _diff(writes: dict[int, tuple[int | Address, int | Address]]) -> dict[str, object]:
    c = LENDING.lower()
    return {
        "pre": {c: {"storage": {_w(s): _w(b) for s, (b, _) in writes.items()}}},
        "post": {c: {"storage": {_w(s): _w(a) for s, (_, a) in writes.items()}}},
    }


def test_a_write_to_an_owner_variable_under_any_name_is_critical(facts: CodeFacts) -> None:
    view = _with(make_view(), facts)
    steward = _slot_of(facts, "steward")
    ev = event(
        call(ATTACKER, LENDING, "handOver(address)", word(ATTACKER)),
        diff=_diff({steward: (TIMELOCK, ATTACKER)}),
    )
    [f] = list(PrivilegedStateWrite()(view, ev))
    assert f.contract == LENDING and "steward" in f.title and f.severity.name == "CRITICAL"
    # the same write by the role holder, or by the slot's current holder, is not a finding
    ok = event(
        call(TIMELOCK, LENDING, "handOver(address)", word(USER)), diff=_diff({steward: (TIMELOCK, USER)})
    )
    assert list(PrivilegedStateWrite()(view, ok)) == []
    own = event(
        call(USER, LENDING, "handOver(address)", word(ATTACKER)), diff=_diff({steward: (USER, ATTACKER)})
    )
    assert list(PrivilegedStateWrite()(view, own)) == []


def test_role_map_entries_are_found_by_hashing_the_transactions_words(facts: CodeFacts) -> None:
    view = _with(make_view(), facts)
    operators, roles = _slot_of(facts, "operators"), _slot_of(facts, "_roles")
    entry = mapping_slot(ATTACKER, operators)
    ev = event(call(ATTACKER, LENDING, "addOperator(address)", word(ATTACKER)), diff=_diff({entry: (0, 1)}))
    assert "operators[" in next(iter(PrivilegedStateWrite()(view, ev))).title
    role = bytes.fromhex("ab" * 32)
    member = mapping_slot(ATTACKER, mapping_slot(role, roles).to_bytes(32, "big"))  # _roles[role].hasRole[a]
    grant = event(
        call(ATTACKER, LENDING, "grantRole(bytes32,address)", role + word(ATTACKER)),
        diff=_diff({member: (0, 1)}),
    )
    assert len(list(PrivilegedStateWrite()(view, grant))) == 1
    # an unrelated write (a balance) by the same sender is not privileged
    other = event(call(ATTACKER, LENDING, "deposit()"), diff=_diff({mapping_slot(ATTACKER, 2): (0, 5)}))
    assert list(PrivilegedStateWrite()(view, other)) == []


def test_without_sources_eip1967_and_a_slot_holding_a_role_holder_count() -> None:
    view = make_view()  # no layout: TIMELOCK holds the admin role
    up = event(
        call(ATTACKER, LENDING, "fallback()"), diff=_diff({int(IMPLEMENTATION_SLOT, 16): (0x1234, 0x5678)})
    )
    assert "EIP-1967 implementation" in next(iter(PrivilegedStateWrite()(view, up))).title
    takeover = event(call(ATTACKER, LENDING, "x()"), diff=_diff({7: (TIMELOCK, ATTACKER)}))
    assert "held role holder" in next(iter(PrivilegedStateWrite()(view, takeover))).title
    counter = event(call(ATTACKER, LENDING, "x()"), diff=_diff({7: (3, 4)}))
    assert list(PrivilegedStateWrite()(view, counter)) == []


NAMESPACED = """
// SPDX-License-Identifier: MIT
pragma solidity ^0.8.20;
import {OwnableUpgradeable} from "@openzeppelin/contracts-upgradeable/access/OwnableUpgradeable.sol";

contract Registry is OwnableUpgradeable {
    function initialize(address owner_) external initializer {
        __Ownable_init(owner_);
    }

    function takeOver(address next) external {
        _transferOwnership(next);
    }

    function record() external view onlyOwner {}
}
"""
OWNABLE_SLOT = 0x9016D09D72D40FDAE2FD8CEAC6B6234C7706214FD39C1CD1E609A0528C199300


def test_erc7201_namespaced_owner_is_found_with_its_writers() -> None:
    with Compiler() as compiler:
        result = compiler.compile_sources({"Registry.sol": NAMESPACED})
    facts = contract_facts(result, "Registry")
    assert OWNABLE_SLOT in facts.privileged_slots  # OwnableStorage._owner, compared in _checkOwner
    assert selector("takeOver(address)") in facts.writers  # writes it through _transferOwnership
    assert selector("record()") not in facts.writers


def test_a_role_map_member_rotating_its_own_entry_is_not_a_finding(facts: CodeFacts) -> None:
    """A member known only on chain (not in the configured roles) hands its entry to a new key: the
    map form of an owner handing over its own slot. Rotating someone else's entry stays critical."""
    view = _with(make_view(), facts)
    operators = _slot_of(facts, "operators")
    mine, theirs, new = (mapping_slot(a, operators) for a in (USER, TIMELOCK, ATTACKER))
    rotate = "rotate(address,address)"
    own = event(
        call(USER, LENDING, rotate, word(USER) + word(ATTACKER)), diff=_diff({mine: (1, 0), new: (0, 1)})
    )
    assert list(PrivilegedStateWrite()(view, own)) == []
    stolen = event(
        call(ATTACKER, LENDING, rotate, word(TIMELOCK) + word(ATTACKER)),
        diff=_diff({theirs: (1, 0), new: (0, 1)}),
    )
    [f] = list(PrivilegedStateWrite()(view, stolen))
    assert "operators[" in f.title
    # a sender whose own entry was empty and is set by the transaction holds nothing yet
    joined = event(call(USER, LENDING, "addOperator(address)", word(USER)), diff=_diff({mine: (0, 1)}))
    assert len(list(PrivilegedStateWrite()(view, joined))) == 1
