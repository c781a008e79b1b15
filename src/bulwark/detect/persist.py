"""Detection's durable state in the store: the head watcher's checkpoint and every finding.

* :class:`StoreCheckpoints` is the watcher's :class:`~bulwark.chain.watchers.CheckpointStore` on the
  store's checkpoint table (the recent block hashes, needed to see a reorg across a restart, ride
  in the row's ``data``).
* :func:`recording` wraps a detection sink: each raised finding is recorded (a mined one with its
  block hash) before the sink sees it, and a reorg's withdrawal marks that block's findings
  withdrawn. The store is synchronous, so writes run in a worker thread and never stall screening.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from bulwark.chain.watchers import Checkpoint
from bulwark.detect.service import Output, Raised, Sink, Withdrawn
from bulwark.domain import Hash32
from bulwark.errors import StoreError
from bulwark.logs import get_logger
from bulwark.store import Store
from bulwark.store.db import Checkpoint as StoredCheckpoint

log = get_logger(__name__)


class StoreCheckpoints:
    """:class:`~bulwark.chain.watchers.CheckpointStore` backed by :class:`~bulwark.store.Store`."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def load(self, name: str) -> Checkpoint | None:
        row = self.store.load(name)
        if row is None:
            return None
        recent = tuple((int(n), Hash32(str(h))) for n, h in row.data.get("recent", ()))
        return Checkpoint(row.block_number, Hash32(row.block_hash), recent)

    def save(self, name: str, checkpoint: Checkpoint) -> None:
        data = {"recent": [[n, h] for n, h in checkpoint.recent]}
        self.store.save(name, StoredCheckpoint(checkpoint.block_number, checkpoint.block_hash, data))


def recording(store: Store, sink: Sink) -> Callable[[Output], Awaitable[None]]:
    """``sink``, with every finding recorded in ``store`` first (and withdrawals applied).

    A store failure is logged and the finding still reaches ``sink``: losing the record of an
    alert must never cost the alert (or the pause behind it).
    """
    withdrawn: set[str] = set()

    async def record(item: Output) -> None:
        try:
            if isinstance(item, Raised):
                await asyncio.to_thread(store.record_finding, item.finding, None, item.block_hash)
            elif isinstance(item, Withdrawn) and item.block_hash and item.block_hash not in withdrawn:
                withdrawn.add(item.block_hash)
                await asyncio.to_thread(store.withdraw_findings, item.block_hash)
        except StoreError as exc:
            log.error("finding not recorded in the store", error=exc.user_message, tx=item.finding.tx_hash)
        finally:
            # Whatever happened to the record, the finding goes on (to the printer, the responder).
            result = sink(item)
            if result is not None:
                await result

    return record


__all__ = ["StoreCheckpoints", "recording"]
