"""A slow drain split across two screen workers on a real nats-server: each worker sees only some
of the sender's steps, yet the drain is flagged at the step that takes the sender's total past the
configured share, while it is pending, as a single process would (the window is kept in the bus's
``windows`` bucket by compare-and-set, not in each worker's memory).

The workers are two ScreenWorkers with their own connection, screener and detectors (as two
processes have); the node is a stand-in (tests/unit/detect/drain_node.py) so that which worker
judges which step is the test's choice. Every wait is on a condition with a generous deadline.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from tests.support.nats_server import NatsServer, nats_server
from tests.unit.detect.drain_node import HELD, DrainNode, pool_monitor, withdrawal

from bulwark.app.roles import ScreenWorker
from bulwark.chain.bus import Bus, TxEnvelope
from bulwark.detect.screen import Screener
from bulwark.domain import Finding, Transaction

pytestmark = pytest.mark.e2e
NETWORK = "local"


@pytest.fixture
def server() -> Iterator[NatsServer]:
    with nats_server() as s:
        yield s


async def _until(cond: Callable[[], bool], what: str, timeout_s: float = 30.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not cond():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        await asyncio.sleep(0.02)


class _Worker:
    """One screen worker (its own bus connection, screener and detectors), started and stopped."""

    def __init__(self, url: str, *, shared: bool) -> None:
        self.url, self.shared = url, shared
        self.judged: dict[str, list[Finding]] = {}
        self._task: asyncio.Task[None] | None = None

    async def open(self) -> None:
        self.bus = await Bus(self.url, ack_wait_s=10).connect()
        self.screener = Screener(DrainNode(), [pool_monitor(max_window_share=0.25)])  # type: ignore[arg-type]
        await self.screener.refresh()
        if self.shared:
            assert self.screener.share(self.bus, NETWORK) == 1

        def screened(env: TxEnvelope, findings: list[Finding]) -> None:
            self.judged[env.tx.hash] = findings

        self.worker = ScreenWorker(self.bus, {NETWORK: self.screener}, on_screened=screened)

    def start(self) -> None:
        self.stop_event = asyncio.Event()
        self._task = asyncio.create_task(self.worker.run(stop=self.stop_event))

    async def stop(self) -> None:
        if self._task is not None:
            self.stop_event.set()
            await asyncio.wait_for(self._task, 30)
            self._task = None

    async def close(self) -> None:
        await self.stop()
        await self.bus.close()


async def _publish(bus: Bus, tx: Transaction) -> None:
    assert await bus.publish_tx(TxEnvelope(NETWORK, tx, time.time()))


def _window(findings: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [f["finding"] for f in findings if "within the window" in f["finding"]["title"]]


async def _alternating(url: str, *, shared: bool, steps: int) -> list[dict[str, Any]]:
    """Steps of 10% each, judged by the two workers in turn (only one runs at a time): the window
    findings on the findings stream."""
    workers = [_Worker(url, shared=shared), _Worker(url, shared=shared)]
    publisher = await Bus(url).connect()
    try:
        for w in workers:
            await w.open()
        for n in range(1, steps + 1):
            w = workers[n % 2]
            w.start()
            tx = withdrawal(n)
            await _publish(publisher, tx)
            await _until(lambda: tx.hash in w.judged, f"step {n} to be judged")  # noqa: B023
            await w.stop()
        return _window(await publisher.findings(NETWORK))
    finally:
        for w in workers:
            await w.close()
        await publisher.close()


def test_a_slow_drain_split_across_two_workers_is_flagged_at_the_step_that_passes_the_share(
    server: NatsServer,
) -> None:
    found = asyncio.run(_alternating(server.url, shared=True, steps=4))
    # Flagged on step 3 (its total 30% > 25%), judged by the worker that had not seen step 2, while
    # pending: at most 20% was lost. Step 4 is flagged too (40%).
    assert [f["tx_hash"] for f in found] == [withdrawal(3).hash, withdrawal(4).hash]
    assert all(f["pending"] for f in found)
    assert found[0]["evidence"]["window_outflow"] == str(3 * (HELD // 10))


def test_without_the_shared_window_each_worker_sees_half_the_drain(server: NatsServer) -> None:
    # The defect the shared window removes: alone, each worker judges every other step.
    found = asyncio.run(_alternating(server.url, shared=False, steps=4))
    assert found == []


def test_two_workers_running_at_once_flag_a_drain_published_all_at_once(server: NatsServer) -> None:
    async def run() -> tuple[list[dict[str, Any]], list[_Worker]]:
        workers = [_Worker(server.url, shared=True), _Worker(server.url, shared=True)]
        publisher = await Bus(server.url).connect()
        try:
            for w in workers:
                await w.open()
                w.start()
            txs = [withdrawal(n) for n in range(1, 5)]  # 40%: more than the 25% share
            for tx in txs:
                await _publish(publisher, tx)
            judged = lambda: all(any(tx.hash in w.judged for w in workers) for tx in txs)  # noqa: E731
            await _until(judged, "every step to be judged")
            return _window(await publisher.findings(NETWORK)), workers
        finally:
            for w in workers:
                await w.close()
            await publisher.close()

    found, workers = asyncio.run(run())
    assert found and all(f["pending"] for f in found)
    assert all(int(f["evidence"]["window_outflow"]) > HELD // 4 for f in found)
    assert sum(w.worker.stats.failed + w.worker.stats.retried for w in workers) == 0


def test_compare_and_set_merges_loses_no_write_between_two_connections(server: NatsServer) -> None:
    # Two processes' connections append to one window at once, each remembering the revision it
    # last wrote (stale as soon as the other writes): every append survives, none twice.
    async def run() -> tuple[list[str], list[str]]:
        a, b = await Bus(server.url).connect(), await Bus(server.url).connect()
        try:

            async def appends(bus: Bus, who: str) -> None:
                for i in range(40):
                    add = f"{who}{i}"
                    await bus.merge("outflow.t.k", lambda v, add=add: (v + b"," if v else b"") + add.encode())  # type: ignore[misc]

            await asyncio.gather(appends(a, "a"), appends(b, "b"), appends(a, "c"))
            got = (await a.merge("outflow.t.k", lambda v: v or b"")).decode().split(",")
            return got, [f"{w}{i}" for w in "abc" for i in range(40)]
        finally:
            await a.close()
            await b.close()

    got, want = asyncio.run(run())
    assert sorted(got) == sorted(want)
