"""The mined path yields to the pending path: a block's transactions are judged once the pending
screens in flight are done (the pending path races the attacker's inclusion; the mined path judges
after the fact), but never later than ``mined_yield_s`` per block, so a flood cannot stall it."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

from tests.unit.detect.test_mined_judging import BLOCK, TXS, FakeClient, FakeHeads

from bulwark.chain.mempool import PendingTx
from bulwark.detect.service import DetectionService, Output
from bulwark.domain import Finding, Hash32, Transaction

PENDING = TXS[0]


class FakeMempool:
    async def stream(self) -> AsyncIterator[PendingTx]:
        yield PendingTx(PENDING, time.perf_counter(), "subscription")
        await asyncio.Event().wait()  # nothing more arrives


class GatedScreener:
    """A pending screen that lasts until ``release`` is set; mined judgements are recorded."""

    def __init__(self) -> None:
        self.release = asyncio.Event()
        self.screening = asyncio.Event()
        self.order: list[str] = []

    async def refresh(self, block_number: int = 0) -> None:
        return None

    def note_pending(self, tx: Transaction) -> None:
        return None

    def announce(self, finding: Finding) -> bool:
        return True

    async def screen(self, tx: Transaction) -> list[Finding]:
        self.screening.set()
        await self.release.wait()
        self.order.append("pending")
        return []

    async def judge_mined(self, tx: Transaction, block_number: int, block_hash: Hash32) -> list[Finding]:
        self.order.append(f"mined {tx.nonce}")
        return []


def _service(screener: GatedScreener, mined_yield_s: float) -> DetectionService:
    client = FakeClient()
    client.block_fetches = 1  # no simulated outage here
    service = DetectionService(
        client,  # type: ignore[arg-type]
        screener,  # type: ignore[arg-type]
        mempool=FakeMempool(),  # type: ignore[arg-type]
        mined_yield_s=mined_yield_s,
    )
    service.heads = FakeHeads(client)  # type: ignore[assignment]
    return service


async def _run(mined_yield_s: float, release_after_s: float | None) -> list[str]:
    screener = GatedScreener()
    service = _service(screener, mined_yield_s)
    out: list[Output] = []
    loop = asyncio.create_task(service._mempool_loop(out.append))
    await asyncio.wait_for(screener.screening.wait(), 10)  # the pending screen is in flight
    block = asyncio.create_task(service._process_block(BLOCK, None, out.append))
    if release_after_s is not None:
        await asyncio.sleep(release_after_s)
        screener.release.set()
    await asyncio.wait_for(block, 30)
    screener.release.set()
    loop.cancel()
    await asyncio.gather(loop, *service._tasks, return_exceptions=True)
    return screener.order


def test_a_block_is_judged_after_the_pending_screens_in_flight() -> None:
    # The block would wait up to 60 s; the pending screen ends after 0.2 s and the block follows.
    order = asyncio.run(_run(mined_yield_s=60.0, release_after_s=0.2))
    assert order == ["pending", f"mined {TXS[0].nonce}", f"mined {TXS[1].nonce}"]


def test_a_pending_screen_that_never_ends_delays_the_block_only_so_long() -> None:
    started = time.monotonic()
    order = asyncio.run(_run(mined_yield_s=0.1, release_after_s=None))
    assert order[:2] == [f"mined {TXS[0].nonce}", f"mined {TXS[1].nonce}"]  # judged while it screens
    assert time.monotonic() - started < 30  # and not after the (unbounded) screen


def test_without_pending_work_a_block_does_not_wait() -> None:
    async def run() -> list[str]:
        screener = GatedScreener()
        service = _service(screener, mined_yield_s=60.0)
        await asyncio.wait_for(service._process_block(BLOCK, None, lambda _: None), 10)
        return screener.order

    assert asyncio.run(run()) == [f"mined {TXS[0].nonce}", f"mined {TXS[1].nonce}"]
