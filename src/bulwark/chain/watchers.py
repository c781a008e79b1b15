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
from typing import Protocol

from bulwark.chain.client import ChainClient, LogFilter
from bulwark.domain import Address, Block, Hash32, Log
from bulwark.errors import ChainError
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


HeadEvent = BlockProcessed | BlockOrphaned | BlocksSkipped


class HeadWatcher:
    """Polls the head (cheap, works with any endpoint) and yields :data:`HeadEvent` in order.

    The caller must handle each event before asking for the next: the checkpoint is saved when
    the *next* event is requested, so a crash mid-block replays that block rather than losing it.
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
    ) -> None:
        self.client = client
        self.store = store
        self.name = name
        self.confirmations = confirmations
        self.max_past_blocks = max_past_blocks
        self.poll_interval_s = poll_interval_s
        self._recent: dict[int, Hash32] = {}
        self._last: int | None = None

    def _save(self) -> None:
        if self._last is None:
            return
        recent = tuple(sorted(self._recent.items())[-_KEEP:])
        self.store.save(self.name, Checkpoint(self._last, self._recent[self._last], recent))

    async def events(self, *, until: int | None = None) -> AsyncIterator[HeadEvent]:
        """Run forever (or until block ``until`` is processed: a finite replay mode for tests)."""
        cp = self.store.load(self.name)
        if cp is not None:
            self._recent = dict(cp.recent) or {cp.block_number: cp.block_hash}
            self._recent[cp.block_number] = cp.block_hash
            self._last = cp.block_number
        failures = 0
        while True:
            try:
                head = await self.client.block_number()
                failures = 0
            except ChainError as exc:
                failures += 1
                log.warning("cannot read the head; retrying", error=exc.user_message, attempt=failures)
                await asyncio.sleep(min(self.poll_interval_s * 2**failures, 30.0))
                continue
            target = head - self.confirmations
            if until is not None:
                target = min(target, until)
            if self._last is None:
                # First start: begin at the confirmed head, nothing older is owed.
                self._last = max(target - 1, -1)
            elif target - self._last > self.max_past_blocks:
                first, last = self._last + 1, target - self.max_past_blocks
                log.warning("downtime exceeded max_past_blocks; skipping", first=first, last=last)
                yield BlocksSkipped(first, last)
                self._last = last
                self._recent[last] = Hash32("0x" + "00" * 32)  # unknown: no reorg check across the gap
            # A reorg that replaces blocks without growing the chain (same height) shows only as
            # a different hash at a height already processed: check the newest one each poll.
            if self._last is not None and self._last in self._recent and int(self._recent[self._last], 16):
                tip = await self._get(self._last)
                if tip is not None and tip.hash != self._recent[self._last]:
                    async for orphan in self._unwind(self._last):
                        yield orphan
                    self._save()
            while self._last < target:
                number = self._last + 1
                block = await self._get(number)
                if block is None:
                    break
                parent = self._recent.get(number - 1)
                if parent is not None and int(parent, 16) != 0 and block.parent_hash != parent:
                    async for orphan in self._unwind(number - 1):
                        yield orphan
                    self._save()
                    continue
                self._recent[number] = block.hash
                self._last = number
                yield BlockProcessed(block)
                self._save()
                for old in [n for n in self._recent if n < number - _KEEP]:
                    del self._recent[old]
            if until is not None and self._last is not None and self._last >= until:
                return
            await asyncio.sleep(self.poll_interval_s)

    async def _get(self, number: int) -> Block | None:
        try:
            return await self.client.get_block(number, full=False)
        except ChainError as exc:
            log.warning("cannot fetch block; retrying", number=number, error=exc.user_message)
            return None

    async def _unwind(self, number: int) -> AsyncIterator[BlockOrphaned]:
        """Walk back from ``number`` while our hash differs from the canonical one."""
        while number in self._recent:
            canonical = await self._get(number)
            if canonical is not None and canonical.hash == self._recent[number]:
                break
            old = self._recent.pop(number)
            log.warning("reorg: block orphaned", number=number, hash=old)
            yield BlockOrphaned(number, old)
            number -= 1
        self._last = number


@dataclass(frozen=True, slots=True)
class LogsProcessed:
    """A confirmed canonical block and the logs the watched addresses emitted in it, in order."""

    block: Block
    logs: tuple[Log, ...]


LogEvent = LogsProcessed | BlockOrphaned | BlocksSkipped


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
        failures = 0
        while True:
            try:
                logs = await self.heads.client.get_logs(flt)
                return tuple(sorted((lg for lg in logs if not lg.removed), key=lambda lg: lg.log_index))
            except ChainError as exc:
                failures += 1
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
