"""Detection as a running service: the mempool path (screen every pending transaction, no
confirmations, deduplicated) and the head path (judge mined blocks once confirmed, refresh the
protocol state, withdraw the findings of blocks a reorg orphaned) feeding one sink."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TypeVar

from bulwark import metrics
from bulwark.chain.client import ChainClient, ChainIdMismatch
from bulwark.chain.mempool import MempoolWatcher, PendingTx
from bulwark.chain.watchers import (
    BlockOrphaned,
    BlockProcessed,
    BlocksSkipped,
    ChainRewound,
    HeadWatcher,
    LogsProcessed,
    LogWatcher,
)
from bulwark.detect.screen import Screener, SimulationFailed
from bulwark.domain import Block, Finding, Hash32, Log, Transaction, TxHash
from bulwark.errors import ChainError, RpcUnreachable
from bulwark.logs import get_logger

log = get_logger(__name__)
T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Raised:
    finding: Finding
    latency_ms: float | None = None  # pending arrival -> finding, for mempool findings
    block_hash: Hash32 | None = None  # the block of a mined transaction's finding
    notify: bool = True  # False: grouped with an earlier announced finding (cooldown); still acted on


@dataclass(frozen=True, slots=True)
class Withdrawn:
    finding: Finding
    reason: str
    block_hash: Hash32 | None = None  # the orphaned block


@dataclass(frozen=True, slots=True)
class Unjudged:
    """A mined transaction that could not be judged (its trace failed past every retry): reported,
    never silently passed over, so its block can be checkpointed."""

    tx_hash: TxHash
    block_number: int
    block_hash: Hash32
    reason: str
    network: str


@dataclass(frozen=True, slots=True)
class Rewound:
    """The node's chain went backwards (a reorg or a reset) and the watcher followed it."""

    kind: str  # "reorg" or "reset"
    last_processed: int
    resume_after: int
    head: int
    network: str


Output = Raised | Withdrawn | Unjudged | Rewound
Sink = Callable[[Output], Awaitable[None] | None]


class DetectionService:
    def __init__(
        self,
        client: ChainClient,
        screener: Screener,
        *,
        heads: HeadWatcher | None = None,
        mempool: MempoolWatcher | None = None,
        concurrency: int = 64,
        logs: LogWatcher | None = None,
        network: str = "default",
        trace_attempts: int = 3,
        trace_retry_s: float = 0.2,
        mined_yield_s: float = 0.1,
    ) -> None:
        """With ``logs`` (a :class:`LogWatcher` over ``heads``), the mined path judges only the
        transactions that touched a protected contract: emitted one of its logs, were sent to it, or
        deployed a contract; and when the endpoint cannot trace, it judges them by those logs."""
        self.client = client
        self.screener = screener
        self.network = network
        self.logs = logs
        self.heads = logs.heads if logs is not None else heads
        self.mempool = mempool
        self._sem = asyncio.Semaphore(concurrency)
        self._by_block: dict[Hash32, list[Finding]] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        # A mined transaction's trace that the node refuses is retried this many times (backing
        # off from trace_retry_s) before the transaction is reported as not judgeable.
        self.trace_attempts = max(1, trace_attempts)
        self.trace_retry_s = trace_retry_s
        self._fatal: asyncio.Future[None] | None = None
        # The mined path judges after the fact; the pending path races the attacker's inclusion.
        # So a block's judging first waits for the pending screens in flight to finish, up to
        # mined_yield_s per block (a flood of pending transactions cannot stall it longer).
        self.mined_yield_s = mined_yield_s
        self._screening = 0
        self._screens_done = asyncio.Event()
        self._screens_done.set()

    async def run(self, sink: Sink, *, until_block: int | None = None) -> None:
        """Run both paths; with ``until_block`` the head path stops there and so does the service."""
        await self.screener.refresh()
        # A chain-id mismatch met while screening a pending transaction ends the service too.
        self._fatal = asyncio.get_running_loop().create_future()
        jobs = []
        if self.mempool is not None:
            jobs.append(asyncio.create_task(self._mempool_loop(sink)))
        if self.heads is not None:
            jobs.append(asyncio.create_task(self._head_loop(sink, until_block)))
        fatal = asyncio.ensure_future(self._fatal)
        try:
            if until_block is not None and self.heads is not None:
                await asyncio.wait([jobs[-1], fatal], return_when=asyncio.FIRST_COMPLETED)
                if fatal.done():
                    fatal.result()
                jobs[-1].result()
            else:
                await asyncio.gather(*jobs, fatal)
        finally:
            for job in jobs:
                job.cancel()
            fatal.cancel()
            await asyncio.gather(*jobs, return_exceptions=True)
            if self._tasks:
                await asyncio.gather(*self._tasks, return_exceptions=True)

    async def _emit(self, sink: Sink, item: Output) -> None:
        result = sink(item)
        if result is not None:
            await result

    async def _mempool_loop(self, sink: Sink) -> None:
        assert self.mempool is not None
        async for pending in self.mempool.stream():
            self.screener.note_pending(pending.tx)
            await self._sem.acquire()
            self._screening += 1
            self._screens_done.clear()
            task = asyncio.create_task(self._screen_one(pending, sink))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _screen_one(self, pending: PendingTx, sink: Sink) -> None:
        try:
            findings = await self.screener.screen(pending.tx)
        except SimulationFailed as exc:
            log.warning("pending transaction not simulated", tx=pending.tx.hash, error=exc.user_message)
            return
        except ChainError as exc:
            log.warning("screening failed", tx=pending.tx.hash, error=exc.user_message)
            return
        finally:
            self._sem.release()
            self._screening -= 1
            if not self._screening:
                self._screens_done.set()
        latency = (time.perf_counter() - pending.seen_at) * 1000
        metrics.count_screened(self.network)
        try:
            for f in findings:
                metrics.count_finding(f.severity)
                await self._emit(sink, Raised(f, latency, notify=self.screener.announce(f)))
        except ChainIdMismatch as exc:
            if self._fatal is not None and not self._fatal.done():
                self._fatal.set_exception(exc)

    async def _head_loop(self, sink: Sink, until_block: int | None) -> None:
        assert self.heads is not None
        events = (
            self.logs.events(until=until_block)
            if self.logs is not None
            else self.heads.events(until=until_block)
        )
        async for event in events:
            if isinstance(event, BlockProcessed):
                await self._process_block(event.block, None, sink)
            elif isinstance(event, LogsProcessed):
                await self._process_block(event.block, event.logs, sink)
            elif isinstance(event, BlockOrphaned):
                for f in self._by_block.pop(event.hash, []):
                    self.screener.withdraw(f)
                    await self._emit(
                        sink,
                        Withdrawn(f, f"block {event.number} {event.hash} orphaned by a reorg", event.hash),
                    )
            elif isinstance(event, ChainRewound):
                rewound = Rewound(
                    event.kind, event.last_processed, event.resume_after, event.head, self.network
                )
                await self._emit(sink, rewound)
            elif isinstance(event, BlocksSkipped):
                log.warning(
                    "blocks skipped (downtime beyond max_past_blocks)", first=event.first, last=event.last
                )

    async def _answered(self, call: Callable[[], Awaitable[T]]) -> T:
        """``call()``, waited for while the node is unreachable (the block is owed, not skipped)."""
        outage = self.client.outage
        while True:
            try:
                result = await call()
                if outage.ok() and self.heads is not None and self.heads.guard is not None:
                    await self.heads.guard.check()  # the node that came back may serve another chain
                return result
            except RpcUnreachable as exc:
                await asyncio.sleep(outage.failed(exc.user_message))

    async def _mined_candidates(
        self, block: Block, logs: tuple[Log, ...] | None
    ) -> list[tuple[Transaction, tuple[Log, ...]]] | None:
        """The block's transactions to judge, each with the protected logs it emitted; None when
        the block is no longer on the chain."""
        failures = 0
        while True:
            try:
                full = await self._answered(lambda: self.client.get_block(block.hash, full=True))
                break
            except ChainIdMismatch:
                raise
            except ChainError as exc:
                if self.heads is not None and await self.heads.gone(block):
                    log.warning("block left the chain before it was judged", number=block.number)
                    return None
                failures += 1  # the node answered wrongly: the block is owed, ask again
                log.warning("block transactions not fetched; retrying", number=block.number,
                            error=exc.user_message, attempt=failures)  # fmt: skip
                await asyncio.sleep(min(self.trace_retry_s * 2**failures, 10.0))
        if logs is None or self.logs is None:
            return [(tx, ()) for tx in full.transactions]
        by_tx: dict[str, list[Log]] = {}
        for lg in logs:
            by_tx.setdefault(lg.tx_hash, []).append(lg)
        watched = {a.lower() for a in self.logs.addresses}
        return [
            (tx, tuple(by_tx.get(tx.hash, ())))
            for tx in full.transactions
            if tx.hash in by_tx or tx.to is None or tx.to.lower() in watched
        ]

    async def _judge_mined(
        self, tx: Transaction, tx_logs: tuple[Log, ...], block: Block
    ) -> list[Finding] | str:
        """Findings for ``tx``, or why it cannot be judged. An unreachable node is waited for; a
        trace the node refuses is retried with backoff, then judged by its logs when there are any."""
        failures = 0
        while True:
            try:
                return await self._answered(lambda: self.screener.judge_mined(tx, block.number, block.hash))
            except (SimulationFailed, ChainError) as exc:
                if isinstance(exc, ChainIdMismatch):
                    raise
                failures += 1
                if failures < self.trace_attempts:
                    await asyncio.sleep(self.trace_retry_s * 2 ** (failures - 1))
                    continue
                if tx_logs:
                    return self.screener.judge_logs(tx, tx_logs, block.number, block.hash)
                return exc.user_message

    async def _after_pending(self, until: float) -> None:
        """Wait (until the monotonic time ``until`` at most) for the pending screens in flight."""
        left = until - time.monotonic()
        if left > 0 and not self._screens_done.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._screens_done.wait(), left)

    async def _process_block(self, block: Block, logs: tuple[Log, ...] | None, sink: Sink) -> None:
        """Judge every transaction of ``block``, or report the ones that cannot be: the head
        watcher checkpoints the block only once this returns."""
        yield_until = time.monotonic() + self.mined_yield_s
        await self._after_pending(yield_until)
        try:
            await self.screener.refresh(block.number)
        except ChainError as exc:
            log.warning("state refresh failed; keeping the previous snapshot", error=exc.user_message)
        # Keep a bounded map of block -> findings for withdrawal on reorg.
        if len(self._by_block) > 512:
            for key in list(self._by_block)[:256]:
                del self._by_block[key]
        self._by_block.setdefault(block.hash, [])
        candidates = await self._mined_candidates(block, logs)
        if candidates is None:
            return  # gone: the head watcher orphans it on its next poll
        for tx, tx_logs in candidates:
            await self._after_pending(yield_until)
            judged = await self._judge_mined(tx, tx_logs, block)
            if isinstance(judged, str):
                if self.heads is not None and await self.heads.gone(block):
                    log.warning("block left the chain while it was judged", number=block.number)
                    return
                log.error("mined transaction NOT JUDGED", tx=tx.hash, block=block.number, error=judged)
                await self._emit(sink, Unjudged(tx.hash, block.number, block.hash, judged, self.network))
                continue
            for f in judged:
                self._by_block[block.hash].append(f)
                metrics.count_finding(f.severity)
                await self._emit(sink, Raised(f, block_hash=block.hash, notify=self.screener.announce(f)))
        with contextlib.suppress(ChainError):  # a metric is not worth a failed block
            metrics.set_blocks_behind(self.network, await self.client.block_number() - block.number)
