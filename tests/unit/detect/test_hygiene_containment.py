"""Alert hygiene never hides a detection from containment: the cooldown groups notifications only,
and every finding on another transaction still reaches the sink that decides on containment."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Sequence
from dataclasses import replace
from typing import Any

from tests.unit.detect.synth import LENDING, USD, USER, call, event, make_view, protocol, transfer_log

from bulwark.app.notify import announcing
from bulwark.chain.mempool import PendingTx
from bulwark.detect.builtins.invariant import InvariantBreak
from bulwark.detect.screen import Screener
from bulwark.detect.service import DetectionService, Output, Raised
from bulwark.detect.setup import Monitor
from bulwark.domain import Address, Transaction, TxHash
from bulwark.notify import Notification


class DrainRpc:
    """Every simulated transaction drains the lending market."""

    async def request(self, method: str, params: Sequence[Any]) -> Any:
        if method == "debug_traceCall":
            return call(USER, LENDING, "borrow(uint256)", logs=[transfer_log(USD, LENDING, USER, 10**30)])
        raise AssertionError(method)


class Snapshot(Screener):
    """The screener with the synthetic protocol state instead of one read from a node."""

    async def refresh(self, block_number: int = 0) -> None:
        self._slots[0].view = make_view()


class Pool:
    """A mempool watcher that yields the given transactions, then ends."""

    def __init__(self, txs: list[Transaction]) -> None:
        self.txs = txs

    async def stream(self) -> AsyncIterator[PendingTx]:
        for tx in self.txs:
            yield PendingTx(tx, time.perf_counter(), "subscription")


class Notes:
    def __init__(self) -> None:
        self.sent: list[Notification] = []

    def submit(self, n: Notification) -> None:
        self.sent.append(n)


def _attack(n: int) -> Transaction:
    return Transaction(
        TxHash("0x" + f"{n:02x}" * 32),
        Address("0x" + f"{n:02x}" * 20),
        Address("0x" + "cc" * 20),
        0,
        b"\x12\x34\x56\x78",
        0,
        10**6,
    )


def test_two_attacks_within_the_cooldown_both_reach_containment() -> None:
    mon = Monitor("m", protocol(), (InvariantBreak(),), cooldown_s=3600, mempool=True)
    screener = Snapshot(DrainRpc(), [mon])  # type: ignore[arg-type]
    service = DetectionService(None, screener, mempool=Pool([_attack(1), _attack(2)]))  # type: ignore[arg-type]
    contained: list[Output] = []
    notes = Notes()

    async def go() -> None:
        await screener.refresh()
        await service._mempool_loop(announcing(notes, contained.append))  # type: ignore[arg-type]
        await asyncio.gather(*service._tasks)

    asyncio.run(go())
    raised = [item for item in contained if isinstance(item, Raised)]
    # both attack transactions reach the sink that contains, on the same target, within the cooldown
    assert sorted(r.finding.tx_hash or "" for r in raised) == ["0x" + "01" * 32, "0x" + "02" * 32]
    assert {r.finding.contract for r in raised} == {LENDING}
    # ... but only the first is announced: the second is grouped with it
    assert [r.notify for r in raised].count(True) == 1 and len(notes.sent) == 1
    # the very same judgement again (pending, then mined) is not passed on twice
    again = event(call(USER, LENDING, "borrow(uint256)", logs=[transfer_log(USD, LENDING, USER, 10**30)]))
    assert screener._judge(replace(again, tx=_attack(1), pending=False), screener._slots) == []
