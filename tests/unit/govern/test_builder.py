"""Safe Transaction Builder batches: the proposal's own timelock calls, the evidence hash as salt."""

from __future__ import annotations

from eth_abi import decode
from tests.unit.govern.test_approvals import TL, H, _proposal

from bulwark.chain.timelock import TIMELOCK_ABI
from bulwark.govern.builder import transaction_builder_batches


def _selector(name: str) -> str:
    from bulwark.chain.abi import find_function, selector

    return "0x" + selector(find_function(TIMELOCK_ABI, name)).hex()


def test_a_delayed_proposal_is_two_batches_schedule_then_execute() -> None:
    p = _proposal(delay=60)
    batches = transaction_builder_batches(p, created_at_ms=1_000_000)
    assert list(batches) == ["schedule", "execute"]
    (sched,) = batches["schedule"]["transactions"]
    assert sched["to"] == TL and sched["value"] == "0" and sched["data"].startswith(_selector("schedule"))
    target, value, data, pred, salt, delay = decode(
        ["address", "uint256", "bytes", "bytes32", "bytes32", "uint256"], bytes.fromhex(sched["data"][10:])
    )
    assert (value, data, salt, delay) == (0, bytes.fromhex("1234"), bytes.fromhex(H[2:]), 60)
    assert target.lower() == p.timelock_op.target.lower() and pred == bytes(32)
    assert batches["execute"]["transactions"][0]["data"].startswith(_selector("execute"))
    meta = batches["schedule"]["meta"]
    assert meta["createdFromSafeAddress"] == p.safe and H in meta["description"]
    assert batches["schedule"]["chainId"] == "31337"


def test_a_zero_delay_proposal_is_one_batch_of_both_calls() -> None:
    batches = transaction_builder_batches(_proposal(delay=0), created_at_ms=0)
    assert list(batches) == ["schedule+execute"]
    calls = batches["schedule+execute"]["transactions"]
    assert [c["data"][:10] for c in calls] == [_selector("schedule"), _selector("execute")]
