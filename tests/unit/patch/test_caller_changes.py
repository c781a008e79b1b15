"""A commit-reveal patch says how callers must now call (``CallerChange``), and the helper a client
uses to follow it hashes exactly what the patched contract hashes (abi.encodePacked, keccak256)."""

from __future__ import annotations

from pathlib import Path

import pytest
from eth_abi.abi import encode
from eth_utils.address import to_canonical_address
from eth_utils.crypto import keccak
from tests.support.patchcase import load_case

from bulwark.domain.patch import CALLER, CallerChange, PreimagePart
from bulwark.patch import PatchRequest, generate
from bulwark.patch.callers import commitment, first_call, packed
from bulwark.patch.context import FixContext
from bulwark.patch.engine import analyse, candidates
from bulwark.patch.fixes.frontrun import CommitRevealFix
from bulwark.toolchain.solc import Compiler

CASE = load_case(Path(__file__).parent / "cases" / "frontrun_preimage_bounty_0517")
ALICE = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"  # anvil's dev account 1 (the cases' alice)
ANSWER = bytes([0x42]) * 32

CLAIM = CallerChange(
    contract="PreimageBounty",
    function="claim(bytes32)",
    first="bulwarkCommit(bytes32)",
    preimage=(PreimagePart(CALLER, "address"), PreimagePart("preimage", "bytes32", 0)),
    blocks_before=1,
)


def _request() -> PatchRequest:
    return PatchRequest(sources=CASE.victim_sources, contract=CASE.contract, use_slither=False)


def test_the_commit_reveal_candidate_declares_the_commit_its_callers_must_make(compiler: Compiler) -> None:
    analysis = analyse(_request(), compiler)
    finding = next(f for f in analysis.findings if "revealed-answer" in f.detector)
    (cand,) = CommitRevealFix().propose(FixContext(analysis.program), finding)
    (change,) = cand.caller_changes
    assert change.contract == "PreimageBounty"
    assert change.function == "claim(bytes32)"
    assert change.first == "bulwarkCommit(bytes32)" and "bulwarkCommit(bytes32)" in cand.added_selectors
    assert [(p.name, p.type, p.arg) for p in change.preimage] == [
        ("caller", "address", None),
        ("preimage", "bytes32", 0),
    ]
    assert change.blocks_before == 1
    assert "bulwarkCommit(bytes32)" in change.text and "claim(bytes32)" in change.text
    # the engine carries it onto the patch (and the JSON form names the hash a client computes)
    patch = next(p for p in candidates(analysis, compiler).patches if "commit-reveal" in p.template)
    assert patch.caller_changes == (change,)
    data = change.to_json()
    assert data["argument"] == "keccak256(abi.encodePacked(caller, preimage))"
    assert CallerChange.from_json(data) == change


def test_a_template_that_keeps_the_calling_protocol_declares_no_caller_change(compiler: Compiler) -> None:
    request = PatchRequest(paths=[Path(__file__).parent / "contracts" / "OpenSetter.sol"], use_slither=False)
    patches = generate(request, compiler)
    assert patches and patches[0].template == "access-control-guard"
    assert all(p.caller_changes == () for p in patches)


def test_the_commitment_is_keccak_of_the_caller_address_and_the_packed_arguments() -> None:
    riddle = CallerChange(
        contract="Riddle",
        function="solve(uint8,string)",
        first="bulwarkCommit(bytes32)",
        preimage=(PreimagePart(CALLER, "address"), PreimagePart("answer", "string", 1)),
    )
    by_hand = keccak(bytes.fromhex(ALICE[2:]) + "sphïnx".encode())  # UTF-8, as Solidity packs a string
    assert commitment(riddle, ALICE, [3, "sphïnx"]) == by_hand
    assert commitment(riddle, ALICE.lower(), [3, "sphïnx"]) == by_hand  # any spelling of the address
    assert commitment(riddle, ALICE, [3, "sphinx"]) != by_hand
    # the calldata of the commit call: its selector and the commitment as its one word
    data = first_call(riddle, ALICE, [3, "sphïnx"])
    assert data == keccak(text="bulwarkCommit(bytes32)")[:4] + by_hand


def test_the_helper_matches_the_commitment_written_by_hand_in_the_unit_case() -> None:
    """The case's functional test commits by hand (if the patch adds bulwarkCommit): same bytes32."""
    step = next(s["call"] for s in CASE.functional if s.get("call", {}).get("fn") == "bulwarkCommit")
    assert step["from"] == "alice"
    assert commitment(CLAIM, ALICE, [ANSWER]) == bytes.fromhex(step["args"][0][2:])


def test_packing_follows_solidity_widths_and_pads_array_elements() -> None:
    assert packed("uint16", 7) == b"\x00\x07"
    assert packed("int8", -1) == b"\xff"
    assert packed("bool", True) == b"\x01"
    assert packed("address", ALICE) == to_canonical_address(ALICE)
    assert packed("bytes", b"\x01\x02") == b"\x01\x02"
    assert packed("uint8[]", [1, 2]) == encode(["uint8"], [1]) + encode(["uint8"], [2])
    assert packed("bytes4[2]", [b"abcd", b"efgh"]) == encode(["bytes4", "bytes4"], [b"abcd", b"efgh"])
    with pytest.raises(ValueError):
        packed("string[]", ["a"])
    with pytest.raises(ValueError):
        packed("uint8[3]", [1, 2])


def test_a_first_call_that_does_not_take_one_commitment_is_refused() -> None:
    odd = CallerChange(
        contract="X", function="f(uint256)", first="register(address)", preimage=CLAIM.preimage
    )
    with pytest.raises(ValueError):
        first_call(odd, ALICE, [ANSWER])
    with pytest.raises(ValueError):
        CallerChange(contract="X", function="f()", first="c(bytes32)", preimage=())
