from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

from tests.unit.detect.synth import (
    E18,
    LENDING,
    POOL,
    USD,
    USER,
    WETH,
    call,
    h,
    make_view,
    protocol,
    transfer_log,
    word,
)

from bulwark.detect.builtins.invariant import InvariantBreak
from bulwark.detect.evm import selector
from bulwark.detect.screen import Screener
from bulwark.detect.setup import Monitor
from bulwark.detect.trace import parse_call_trace, parse_state_diff
from bulwark.domain import Address, Transaction, TxHash


def test_steps_interleave_logs_and_calls_by_position() -> None:
    raw = call(
        USER,
        POOL,
        "swap(address,uint256,uint256,address)",
        calls=[
            call(POOL, USD, "transferFrom(address,address,uint256)"),
            call(POOL, WETH, "transfer(address,uint256)"),
        ],
        logs=[
            transfer_log(USD, USER, POOL, 1, position=0),
            transfer_log(WETH, POOL, USER, 2, position=1),
            transfer_log(USD, USER, POOL, 3, position=2),
        ],
    )
    root, steps = parse_call_trace(raw, TxHash("0x" + "00" * 32))  # type: ignore[arg-type]
    kinds = [(s.kind, s.frame.to if s.frame else s.log.address) for s in steps]  # type: ignore[union-attr]
    assert kinds == [("call", POOL), ("log", USD), ("call", USD), ("log", WETH), ("call", WETH), ("log", USD)]
    assert [s.log.log_index for s in steps if s.log] == [0, 1, 2]
    assert len(root.calls) == 2


def test_reverted_subframe_marks_its_logs_and_children() -> None:
    raw = call(
        USER,
        LENDING,
        calls=[
            call(
                LENDING,
                USD,
                error="execution reverted",
                calls=[call(USD, POOL)],
                logs=[transfer_log(USD, LENDING, USER, 5)],
            )
        ],
    )
    _, steps = parse_call_trace(raw, TxHash("0x" + "00" * 32))  # type: ignore[arg-type]
    assert [s.reverted for s in steps] == [False, True, True, True]


def test_state_diff_parsing() -> None:
    diff = parse_state_diff(
        {
            "pre": {h(USER): {"balance": "0x10", "nonce": 1}, h(LENDING): {"storage": {"0x01": "0x05"}}},
            "post": {h(USER): {"balance": "0x08", "nonce": 2}, h(LENDING): {"storage": {"0x01": "0x06"}}},
        }
    )
    assert diff.balances[USER] == (16, 8) and diff.nonces[USER] == (1, 2)
    assert diff.storage[LENDING][0].after == "0x06"


class FakeRpc:
    def __init__(self) -> None:
        self.calls: list[str] = []

    async def request(self, method: str, params: Sequence[Any]) -> Any:
        self.calls.append(method)
        if method == "eth_getCode":
            return "0x" if params[0] == USER else "0x6080"
        if method == "debug_traceCall":
            return call(USER, LENDING, "borrow(uint256)", logs=[transfer_log(USD, LENDING, USER, 10**30)])
        raise AssertionError(method)


def _tx(to: Address | None, data: bytes = b"", value: int = 0) -> Transaction:
    return Transaction(TxHash("0x" + "01" * 32), Address("0x" + "aa" * 20), to, value, data, 0, 100_000)


def test_prefilter_skips_only_what_cannot_touch_protected_state() -> None:
    rpc = FakeRpc()
    mon = Monitor("m", protocol(), (InvariantBreak(),), cooldown_s=0, mempool=True)
    s = Screener(rpc, [mon])  # type: ignore[arg-type]
    transfer = bytes.fromhex(selector("transfer(address,uint256)")[2:])

    async def harmless(tx: Transaction) -> bool:
        return await s._harmless(tx)

    run = asyncio.run
    assert run(harmless(_tx(USER, value=E18)))  # ETH to an EOA
    assert not run(harmless(_tx(Address("0x" + "cc" * 20), value=E18)))  # ETH to a contract
    assert run(harmless(_tx(USD, transfer + word(USER) + word(5))))  # token transfer between outsiders
    assert not run(harmless(_tx(USD, transfer + word(LENDING) + word(5))))  # donation to a protected contract
    assert not run(harmless(_tx(None, b"\x60\x80")))  # deployment
    assert not run(harmless(_tx(Address("0x" + "cc" * 20), transfer + word(USER) + word(5))))  # unknown token
    assert not run(harmless(_tx(LENDING, bytes.fromhex(selector("borrow(uint256)")[2:]) + word(1))))
    # and a simulated drain is found (against the snapshot a head refresh would have read)
    s._slots[0].view = make_view()
    findings = run(s.screen(_tx(Address("0x" + "cc" * 20), b"\x12\x34\x56\x78")))
    assert [f.detector for f in findings] == ["invariant-break"] and "debug_traceCall" in rpc.calls
