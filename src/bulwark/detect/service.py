"""Detection as a running service: the mempool path (screen every pending transaction, no
confirmations, deduplicated) and the head path (judge mined blocks once confirmed, refresh the
protocol state, withdraw the findings of blocks a reorg orphaned) feeding one sink."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from bulwark import metrics
from bulwark.chain.client import ChainClient
from bulwark.chain.mempool import MempoolWatcher, PendingTx
from bulwark.chain.watchers import (
    BlockOrphaned,
    BlockProcessed,
    BlocksSkipped,
    HeadWatcher,
    LogsProcessed,
    LogWatcher,
)
from bulwark.detect.screen import Screener, SimulationFailed
from bulwark.domain import Block, Finding, Hash32, Log, Transaction
from bulwark.errors import ChainError
from bulwark.logs import get_logger

log = get_logger(__name__)


@dataclass(frozen=True, slots=True)
class Raised:
    finding: Finding
    latency_ms: float | None = None  # pending arrival -> finding, for mempool findings
    block_hash: Hash32 | None = None  # the block of a mined transaction's finding


@dataclass(frozen=True, slots=True)
class Withdrawn:
    finding: Finding
    reason: str
    block_hash: Hash32 | None = None  # the orphaned block


Output = Raised | Withdrawn
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

    async def run(self, sink: Sink, *, until_block: int | None = None) -> None:
        """Run both paths; with ``until_block`` the head path stops there and so does the service."""
        await self.screener.refresh()
        jobs = []
        if self.mempool is not None:
            jobs.append(asyncio.create_task(self._mempool_loop(sink)))
        if self.heads is not None:
            jobs.append(asyncio.create_task(self._head_loop(sink, until_block)))
        try:
            if until_block is not None and self.heads is not None:
                await jobs[-1]
            else:
                await asyncio.gather(*jobs)
        finally:
            for job in jobs:
                job.cancel()
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
        latency = (time.perf_counter() - pending.seen_at) * 1000
        metrics.count_screened(self.network)
        for f in findings:
            metrics.count_finding(f.severity)
            await self._emit(sink, Raised(f, latency))

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
            elif isinstance(event, BlocksSkipped):
                log.warning(
                    "blocks skipped (downtime beyond max_past_blocks)", first=event.first, last=event.last
                )

    async def _mined_candidates(
        self, block: Block, logs: tuple[Log, ...] | None
    ) -> list[tuple[Transaction, tuple[Log, ...]]]:
        """The block's transactions to judge, each with the protected logs it emitted."""
        if logs is None or self.logs is None:
            out: list[tuple[Transaction, tuple[Log, ...]]] = []
            for tx_hash in block.tx_hashes:
                tx = await self.client.get_transaction(tx_hash)
                if tx is not None:
                    out.append((tx, ()))
            return out
        by_tx: dict[str, list[Log]] = {}
        for lg in logs:
            by_tx.setdefault(lg.tx_hash, []).append(lg)
        watched = {a.lower() for a in self.logs.addresses}
        full = await self.client.get_block(block.hash, full=True)
        return [
            (tx, tuple(by_tx.get(tx.hash, ())))
            for tx in full.transactions
            if tx.hash in by_tx or tx.to is None or tx.to.lower() in watched
        ]

    async def _process_block(self, block: Block, logs: tuple[Log, ...] | None, sink: Sink) -> None:
        try:
            await self.screener.refresh(block.number)
        except ChainError as exc:
            log.warning("state refresh failed; keeping the previous snapshot", error=exc.user_message)
        # Keep a bounded map of block -> findings for withdrawal on reorg.
        if len(self._by_block) > 512:
            for key in list(self._by_block)[:256]:
                del self._by_block[key]
        self._by_block.setdefault(block.hash, [])
        try:
            candidates = await self._mined_candidates(block, logs)
        except ChainError as exc:
            log.warning("block transactions not fetched", number=block.number, error=exc.user_message)
            return
        for tx, tx_logs in candidates:
            try:
                findings = await self.screener.judge_mined(tx, block.number, block.hash)
            except SimulationFailed as exc:
                if not tx_logs:
                    log.warning("mined transaction not judged", tx=tx.hash, error=exc.user_message)
                    continue
                findings = self.screener.judge_logs(tx, tx_logs, block.number, block.hash)
            except ChainError as exc:
                log.warning("mined transaction not judged", tx=tx.hash, error=exc.user_message)
                continue
            for f in findings:
                self._by_block[block.hash].append(f)
                metrics.count_finding(f.severity)
                await self._emit(sink, Raised(f, block_hash=block.hash))
        with contextlib.suppress(ChainError):  # a metric is not worth a failed block
            metrics.set_blocks_behind(self.network, await self.client.block_number() - block.number)
