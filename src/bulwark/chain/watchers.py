"""The head watcher: never loses a block, never judges one twice, and takes back what a reorg undid.

* A persisted :class:`Checkpoint` (last processed block and the recent hashes) lets a restart
  resume right after the last block processed; recovery after downtime goes back at most
  ``max_past_blocks`` (older blocks are reported as skipped, never silently).
* A block is processed once it is ``confirmations`` deep.
* Each new block's parent hash is checked against what was processed; on a mismatch the watcher
  walks back to the fork point and emits :class:`BlockOrphaned` for every processed block that is no
  longer canonical (their findings must be withdrawn) before processing the new branch.

:class:`LogWatcher` rides the head watcher: for every confirmed block it fetches the logs of the
protected addresses (``eth_getLogs`` by block hash, so the logs are those of exactly the block
processed even while a reorg is under way), inheriting checkpoint, recovery and reorg handling.
"""

from __future__ import annotations

import asyncio
import json
import os
import tempfile
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, Protocol

from bulwark.chain import convert
from bulwark.chain.client import ChainClient, ChainIdMismatch, LogFilter
from bulwark.domain import Address, Block, Hash32, Log
from bulwark.errors import ChainError, RpcUnreachable
from bulwark.logs import get_logger

log = get_logger(__name__)

_KEEP = 128  # processed block hashes remembered for reorg detection


@dataclass(frozen=True, slots=True)
class Checkpoint:
    """Last processed block, plus recent (number, hash) pairs to detect reorgs across a restart."""

    block_number: int
    block_hash: Hash32
    recent: tuple[tuple[int, Hash32], ...] = ()


class CheckpointStore(Protocol):
    def load(self, name: str) -> Checkpoint | None: ...
    def save(self, name: str, checkpoint: Checkpoint) -> None: ...


class FileCheckpointStore:
    """One JSON file per watcher name, replaced atomically (``os.replace``) on every save."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def _path(self, name: str) -> Path:
        safe = "".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in name)
        return self.directory / f"{safe}.checkpoint.json"

    def load(self, name: str) -> Checkpoint | None:
        path = self._path(name)
        try:
            data = json.loads(path.read_text())
            return Checkpoint(
                int(data["block_number"]),
                Hash32(data["block_hash"]),
                tuple((int(n), Hash32(h)) for n, h in data.get("recent", ())),
            )
        except FileNotFoundError:
            return None
        except (ValueError, KeyError, TypeError) as exc:
            raise ChainError(
                f"checkpoint file {path} is corrupt ({exc}); move it away to start fresh"
            ) from exc

    def save(self, name: str, checkpoint: Checkpoint) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        path = self._path(name)
        data = {
            "block_number": checkpoint.block_number,
            "block_hash": checkpoint.block_hash,
            "recent": [[n, h] for n, h in checkpoint.recent],
        }
        fd, tmp = tempfile.mkstemp(dir=self.directory, prefix=path.name, suffix=".tmp")
        try:
            with os.fdopen(fd, "w") as fh:
                json.dump(data, fh)
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise


class MemoryCheckpointStore:
    def __init__(self) -> None:
        self.items: dict[str, Checkpoint] = {}

    def load(self, name: str) -> Checkpoint | None:
        return self.items.get(name)

    def save(self, name: str, checkpoint: Checkpoint) -> None:
        self.items[name] = checkpoint


class ChainIdGuard:
    """The node must serve the configured chain (without one, the chain it served first).

    :meth:`check` asks the node each time (never a cached answer): a node restarted on another
    chain behind the same URL is caught before another block is judged or a pause is sent.
    """

    def __init__(self, client: ChainClient, expected: int | None, network: str) -> None:
        self.client = client
        self.expected = expected
        self.network = network

    async def check(self) -> int:
        actual = convert.to_int(await self.client.request("eth_chainId"))
        if self.expected is None:
            self.expected = actual  # pinned: a later change is a divergence all the same
        elif actual != self.expected:
            log.error(
                "chain id mismatch: not acting", network=self.network, expected=self.expected, actual=actual
            )
            raise ChainIdMismatch(
                f"network {self.network!r}: the node at {self.client.display_url} serves chain id {actual}, "
                f"expected {self.expected}; point rpc_http at a node of chain {self.expected} "
                "or fix the network's chain_id"
            )
        return actual


@dataclass(frozen=True, slots=True)
class BlockProcessed:
    """A canonical block, ``confirmations`` deep: judge its transactions now."""

    block: Block


@dataclass(frozen=True, slots=True)
class BlockOrphaned:
    """A block processed earlier is no longer canonical: withdraw its findings."""

    number: int
    hash: Hash32


@dataclass(frozen=True, slots=True)
class BlocksSkipped:
    """Downtime longer than ``max_past_blocks``: these blocks were not examined."""

    first: int
    last: int


@dataclass(frozen=True, slots=True)
class ChainRewound:
    """The chain went backwards under the watcher (reported before the :class:`BlockOrphaned` it
    causes): a ``reorg`` when a block it processed is still canonical (``resume_after`` is the
    newest such, the common ancestor), a ``reset`` when none is (the node's chain is new: it is
    judged from its start, within ``max_past_blocks``)."""

    kind: Literal["reorg", "reset"]
    last_processed: int
    resume_after: int
    head: int


HeadEvent = BlockProcessed | BlockOrphaned | BlocksSkipped | ChainRewound

_UNKNOWN = Hash32("0x" + "00" * 32)  # a block number with no known hash (after a skipped gap)


def _known(h: Hash32) -> bool:
    return int(h, 16) != 0


class HeadWatcher:
    """Polls the head (cheap, works with any endpoint) and yields :data:`HeadEvent` in order.

    The caller must handle each event before asking for the next: the checkpoint is saved when
    the *next* event is requested, so a crash mid-block replays that block rather than losing it.
    An unreachable node is waited for (backoff and reporting shared through ``client.outage``);
    with a ``guard``, the chain id is checked on every new head and a mismatch ends the stream
    (:class:`~bulwark.chain.client.ChainIdMismatch`).
    """

    def __init__(
        self,
        client: ChainClient,
        store: CheckpointStore,
        name: str,
        *,
        confirmations: int = 1,
        max_past_blocks: int = 256,
        poll_interval_s: float = 1.0,
        guard: ChainIdGuard | None = None,
    ) -> None:
        self.client = client
        self.store = store
        self.name = name
        self.confirmations = confirmations
        self.max_past_blocks = max_past_blocks
        self.poll_interval_s = poll_interval_s
        self.guard = guard
        self._recent: dict[int, Hash32] = {}
        self._last: int | None = None
        self._checked_head: int | None = None

    def _save(self) -> None:
        if self._last is None:
            return
        recent = tuple(sorted(self._recent.items())[-_KEEP:])
        self.store.save(self.name, Checkpoint(self._last, self._recent.get(self._last, _UNKNOWN), recent))

    async def events(self, *, until: int | None = None) -> AsyncIterator[HeadEvent]:
        """Run forever (or until block ``until`` is processed: a finite replay mode for tests)."""
        cp = self.store.load(self.name)
        if cp is not None:
            self._recent = dict(cp.recent) or {cp.block_number: cp.block_hash}
            self._recent[cp.block_number] = cp.block_hash
            self._last = cp.block_number
        errors = 0
        while True:
            try:
                head = await self.client.block_number()
                if self.guard is not None and head != self._checked_head:
                    await self.guard.check()
                    self._checked_head = head
                async for event in self._poll(head, until):
                    yield event
                if self.client.outage.ok() and self.guard is not None:
                    await self.guard.check()  # the node that came back may be another one
            except ChainIdMismatch:
                raise
            except RpcUnreachable as exc:
                await asyncio.sleep(self.client.outage.failed(exc.user_message))
                continue
            except ChainError as exc:  # the node answered, but not usefully: back off, say it rarely
                errors += 1
                if errors & (errors - 1) == 0:  # the 1st, 2nd, 4th, 8th... in a row
                    log.warning("head poll failed; retrying", error=exc.user_message, attempt=errors)
                await asyncio.sleep(min(self.poll_interval_s * 2**errors, self.client.outage.max_delay_s))
                continue
            errors = 0
            if until is not None and self._last is not None and self._last >= until:
                return
            await asyncio.sleep(self.poll_interval_s)

    async def _poll(self, head: int, until: int | None) -> AsyncIterator[HeadEvent]:
        target = head - self.confirmations
        if until is not None:
            target = min(target, until)
        if self._last is None:
            # First start: begin at the confirmed head, nothing older is owed.
            self._last = max(target - 1, -1)
        # The chain went backwards: shorter than what was processed, or (a reorg that replaces
        # blocks without growing the chain) the newest processed block is no longer canonical.
        tip = self._recent.get(self._last)
        if self._last > head or (tip is not None and _known(tip) and await self._hash_at(self._last) != tip):
            async for event in self._rewind(head):
                yield event
        if target - self._last > self.max_past_blocks:
            first, last = self._last + 1, target - self.max_past_blocks
            log.warning("downtime exceeded max_past_blocks; skipping", first=first, last=last)
            yield BlocksSkipped(first, last)
            self._last = last
            self._recent[last] = _UNKNOWN  # no reorg check across the gap
        while self._last < target:
            number = self._last + 1
            block = await self._block(number)
            if block is None:
                break  # the chain shrank meanwhile: the next poll rewinds
            parent = self._recent.get(number - 1)
            if parent is not None and _known(parent) and block.parent_hash != parent:
                async for event in self._rewind(number - 1):
                    yield event
                continue
            self._recent[number] = block.hash
            self._last = number
            yield BlockProcessed(block)
            self._save()
            for old in [n for n in self._recent if n < number - _KEEP]:
                del self._recent[old]

    async def _block(self, number: int) -> Block | None:
        """Block ``number``, or None when the node has no such block (unreachable: raises)."""
        raw = await self.client.request("eth_getBlockByNumber", [hex(number), False])
        return None if raw is None else convert.to_block(raw)

    async def _hash_at(self, number: int) -> Hash32 | None:
        block = await self._block(number)
        return None if block is None else block.hash

    async def gone(self, block: Block) -> bool:
        """True when the node answers that ``block`` is no longer canonical (False if it cannot say)."""
        try:
            return await self._hash_at(block.number) != block.hash
        except ChainError:
            return False

    async def _rewind(self, head: int) -> AsyncIterator[HeadEvent]:
        """Back to the newest processed block still canonical at or below ``head``; every
        processed block above it is orphaned. None left: a reset, judged from the new start."""
        assert self._last is not None
        ancestor: int | None = None
        for number in sorted((n for n, h in self._recent.items() if n <= head and _known(h)), reverse=True):
            if await self._hash_at(number) == self._recent[number]:
                ancestor = number
                break
        resume = ancestor if ancestor is not None else -1
        kind: Literal["reorg", "reset"] = "reorg" if ancestor is not None else "reset"
        orphans = sorted((n for n in self._recent if n > resume), reverse=True)
        log.warning(
            f"chain {kind}: the node's chain went back; following it",
            last_processed=self._last,
            resume_after=resume,
            head=head,
            orphaned=len(orphans),
        )
        yield ChainRewound(kind, self._last, resume, head)
        for number in orphans:
            old = self._recent.pop(number)
            if _known(old):
                log.debug("block orphaned", number=number, hash=old)
                yield BlockOrphaned(number, old)
        self._last = resume
        self._save()


@dataclass(frozen=True, slots=True)
class LogsProcessed:
    """A confirmed canonical block and the logs the watched addresses emitted in it, in order."""

    block: Block
    logs: tuple[Log, ...]


LogEvent = LogsProcessed | BlockOrphaned | BlocksSkipped | ChainRewound


class LogWatcher:
    """Logs of ``addresses`` over confirmed blocks, each block's once (the head watcher's
    checkpoint, confirmations, recovery and reorg events apply unchanged).

    A failed ``eth_getLogs`` is retried with backoff, never skipped: the head watcher's checkpoint
    only moves on when the next event is asked for, so a crash here replays the block.
    """

    def __init__(
        self, heads: HeadWatcher, addresses: Sequence[Address], *, retry_max_s: float = 30.0
    ) -> None:
        self.heads = heads
        self.addresses = tuple(dict.fromkeys(addresses))
        self.retry_max_s = retry_max_s

    async def logs_of(self, block: Block) -> tuple[Log, ...]:
        if not self.addresses:
            return ()
        flt = LogFilter(address=self.addresses, block_hash=block.hash)
        outage = self.heads.client.outage
        failures = 0
        while True:
            try:
                logs = await self.heads.client.get_logs(flt)
                outage.ok()
                return tuple(sorted((lg for lg in logs if not lg.removed), key=lambda lg: lg.log_index))
            except RpcUnreachable as exc:
                await asyncio.sleep(min(outage.failed(exc.user_message), self.retry_max_s))
            except ChainError as exc:
                failures += 1
                if await self.heads.gone(block):
                    # Gone (a reorg or reset): no logs to judge; the head watcher's next poll
                    # orphans it. Retrying would wait forever for a block that no longer exists.
                    log.warning("block left the chain before its logs were read", number=block.number)
                    return ()
                log.warning(
                    "cannot fetch logs; retrying",
                    number=block.number,
                    error=exc.user_message,
                    attempt=failures,
                )
                await asyncio.sleep(min(self.heads.poll_interval_s * 2**failures, self.retry_max_s))

    async def events(self, *, until: int | None = None) -> AsyncIterator[LogEvent]:
        async for event in self.heads.events(until=until):
            if isinstance(event, BlockProcessed):
                yield LogsProcessed(event.block, await self.logs_of(event.block))
            else:
                yield event
