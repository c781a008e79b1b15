"""Cumulative outflow across screen workers: a sender's transactions reach whichever worker is free,
so its window is kept in a store they share (compare-and-set; the bus's ``windows`` bucket in a
cluster, tests/e2e/cluster/test_shared_window.py). Here the store is in memory and the workers are
two screeners with their own detectors, as two processes would have."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable

import pytest
from tests.unit.detect.drain_node import HELD, DrainNode, pool_monitor, withdrawal
from tests.unit.detect.synth import USER

from bulwark.chain.bus import BusUnavailable
from bulwark.detect.model import ChainView, TxEvent
from bulwark.detect.screen import Screener
from bulwark.domain import Finding


class MemoryCas:
    """Compare-and-set in memory, as the bus does it. ``between`` runs once between a read and
    its write: another worker writing first."""

    def __init__(self) -> None:
        self.values: dict[str, tuple[int, bytes]] = {}
        self.conflicts = 0
        self.between: list[Callable[[], Awaitable[object]]] = []
        self.merges = 0
        self.down = False  # the broker does not answer

    async def merge(self, key: str, update: Callable[[bytes | None], bytes]) -> bytes:
        self.merges += 1
        if self.down:
            raise BusUnavailable("the shared window could not be updated")
        while True:
            revision, current = self.values.get(key, (0, None))
            value = update(current)
            if self.between:
                await self.between.pop(0)()
            if self.values.get(key, (0, None))[0] != revision:
                self.conflicts += 1
                continue
            self.values[key] = (revision + 1, value)
            return value


def _worker(store: MemoryCas | None) -> Screener:
    screener = Screener(DrainNode(), [pool_monitor(max_window_share=0.25)])  # type: ignore[arg-type]
    if store is not None:
        assert screener.share(store, "local") == 1
    return screener


def _window(findings: list[Finding]) -> list[Finding]:
    return [f for f in findings if "within the window" in f.title]


async def _first_flagged(workers: list[Screener], steps: int) -> int | None:
    for w in workers:
        await w.refresh()
    for n in range(1, steps + 1):  # steps of 10% each, taken by the workers in turn
        if _window(await workers[n % len(workers)].screen(withdrawal(n))):
            return n
    return None


def test_a_slow_drain_split_across_two_workers_is_caught_as_in_one_process() -> None:
    alone = asyncio.run(_first_flagged([_worker(None)], 6))
    shared = asyncio.run(_first_flagged([_worker(s := MemoryCas()), _worker(s)], 6))
    apart = asyncio.run(_first_flagged([_worker(None), _worker(None)], 6))
    assert alone == shared == 3  # 30% > 25%, while pending: 20% lost at most
    assert apart == 5  # each worker alone saw every other step: half the drain, caught late


def test_a_worker_that_wrote_in_between_is_merged_and_the_last_writer_judges_all() -> None:
    store = MemoryCas()
    a, b = _worker(store), _worker(store)

    async def run() -> tuple[list[Finding], list[Finding]]:
        await a.refresh()
        await b.refresh()
        assert _window(await a.screen(withdrawal(1))) == []
        seen_by_b: list[Finding] = []

        async def b_screens_step_2() -> None:
            seen_by_b.extend(await b.screen(withdrawal(2)))

        store.between.append(b_screens_step_2)  # b writes between a's read and a's write
        return await a.screen(withdrawal(3)), seen_by_b

    step3, step2 = asyncio.run(run())
    assert store.conflicts == 1
    assert _window(step2) == []  # b saw steps 1 and 2: 20%
    (finding,) = _window(step3)  # a, writing again after the conflict, saw all three: 30%
    assert finding.evidence["window_outflow"] == str(3 * (HELD // 10))


def test_fee_bumps_of_one_withdrawal_on_different_workers_count_once() -> None:
    store = MemoryCas()
    workers = [_worker(store), _worker(store)]

    async def run() -> list[Finding]:
        for w in workers:
            await w.refresh()
        found: list[Finding] = []
        for attempt in range(4):  # a stuck 10% withdrawal resent with a higher fee, 4 times
            found += await workers[attempt % 2].screen(withdrawal(7, sender=USER, attempt=attempt))
        found += await workers[0].screen(withdrawal(8, sender=USER))  # and one more 10%: 20%
        return found

    assert asyncio.run(run()) == []


def test_an_outflow_judged_while_another_is_merged_is_not_lost() -> None:
    # One worker, two transactions in flight: the second is judged (its outflow recorded in the
    # worker's window) while the first's merge waits on the store. Taking the stored window as the
    # worker's must not drop the second's outflow before it was written.
    store = MemoryCas()
    a = _worker(store)
    det = a.monitors[0].detectors[0]

    async def judged_meanwhile(view: ChainView, event: TxEvent) -> None:
        assert list(det(view, event)) == []

    async def run() -> list[int]:
        await a.refresh()
        step2 = await a.simulate(withdrawal(2))
        store.between.append(lambda: judged_meanwhile(a.views[0], step2))
        assert await a.screen(withdrawal(1)) == []
        await det.settle()  # the second transaction's settle, after the first's
        (stored,) = (value for _, value in store.values.values())
        return sorted(row[0] for row in json.loads(stored))

    assert asyncio.run(run()) == [1, 2]


def test_the_same_outflow_judged_again_is_not_written_again_and_a_failed_write_is_retried() -> None:
    store = MemoryCas()
    a = _worker(store)

    async def run() -> None:
        await a.refresh()
        await a.screen(withdrawal(1))
        assert store.merges == 1
        await a.screen(withdrawal(1))  # redelivered (or mined): the window did not change
        assert store.merges == 1
        store.down = True
        with pytest.raises(BusUnavailable):  # the worker hands the transaction back to the broker
            await a.screen(withdrawal(2))
        store.down = False
        await a.screen(withdrawal(2))  # its redelivery, the window unchanged since: written now
        (stored,) = (value for _, value in store.values.values())
        assert sorted(row[0] for row in json.loads(stored)) == [1, 2]
        # A finding of a transaction handed back is found again on its redelivery (not held back
        # as a repeat of a delivery that never left the worker): 30% at once, and 50% in all.
        store.down = True
        with pytest.raises(BusUnavailable):
            await a.screen(withdrawal(3, amount=3 * (HELD // 10)))
        store.down = False
        again = await a.screen(withdrawal(3, amount=3 * (HELD // 10)))
        assert [f.tx_hash for f in again] == [withdrawal(3).hash]

    asyncio.run(run())


def test_a_shared_window_stays_bounded_and_keeps_counting_what_it_folds() -> None:
    """Thousands of outflows by one sender fit the bus's message limit: the oldest are folded into
    one entry that still counts them (an unbounded window would be handed back unjudged forever)."""
    from bulwark.detect.builtins import invariant

    ledger = invariant.OutflowLedger(window_blocks=10**6, window_s=10**9, clock=lambda: 1000.0)
    key, sender = (None, "0x" + "11" * 20), "0x" + "22" * 20
    for nonce in range(3 * invariant.MAX_SHARED_ENTRIES):
        ledger.add(key, sender, nonce, block=100 + nonce, amount=7, base=10**6)  # type: ignore[arg-type]
    wkey = (*key, sender)
    stored = ledger.merged(wkey, None)  # type: ignore[arg-type]
    rows = json.loads(stored)
    assert len(rows) == invariant.MAX_SHARED_ENTRIES
    assert sum(r[3] for r in rows) == 7 * 3 * invariant.MAX_SHARED_ENTRIES
    # Merged again, by this worker or another, the folded entry is not counted twice.
    again = json.loads(ledger.merged(wkey, stored))  # type: ignore[arg-type]
    assert sum(r[3] for r in again) == 7 * 3 * invariant.MAX_SHARED_ENTRIES
    other = invariant.OutflowLedger(window_blocks=10**6, window_s=10**9, clock=lambda: 1000.0)
    other.absorb(wkey, stored)  # type: ignore[arg-type]
    assert json.loads(other.merged(wkey, stored)) == rows  # type: ignore[arg-type]


def test_a_slow_drain_is_caught_as_early_when_the_window_folds(monkeypatch: pytest.MonkeyPatch) -> None:
    from bulwark.detect.builtins import invariant

    monkeypatch.setattr(invariant, "MAX_SHARED_ENTRIES", 2)  # every write folds
    shared = asyncio.run(_first_flagged([_worker(s := MemoryCas()), _worker(s)], 6))
    assert shared == 3
