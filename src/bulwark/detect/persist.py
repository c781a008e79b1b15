"""Detection's durable state in the store: the head watcher's checkpoint and every finding.

* :class:`StoreCheckpoints` is the watcher's :class:`~bulwark.chain.watchers.CheckpointStore` on the
  store's checkpoint table (the recent block hashes, needed to see a reorg across a restart, ride
  in the row's ``data``).
* :func:`recording` wraps a detection sink: each raised finding is recorded (a mined one with its
  block hash) before the sink sees it, and a reorg's withdrawal marks that block's findings
  withdrawn; a transaction that could not be judged, and a reorg or reset, get an audit entry
  of their own kind. The store is synchronous, so writes run in a worker thread and never stall screening.
* :func:`holding_lease` keeps one ``bulwark watch`` per store.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable

from bulwark.chain.watchers import Checkpoint
from bulwark.detect.service import Output, Raised, Rewound, Sink, Unjudged, Withdrawn
from bulwark.domain import Hash32
from bulwark.errors import LeaseHeld, StoreError
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
    """``sink``, with every finding recorded in ``store`` first (and withdrawals applied); a
    transaction that could not be judged and a chain that went backwards are audited.

    A store failure is logged and the item still reaches ``sink``: losing the record of an
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
            elif isinstance(item, Unjudged):
                payload = {"network": item.network, "tx_hash": item.tx_hash, "block": item.block_number,
                           "block_hash": item.block_hash, "reason": item.reason}  # fmt: skip
                await asyncio.to_thread(store.audit, UNJUDGED, payload)
            elif isinstance(item, Rewound):
                payload = {"network": item.network, "last_processed": item.last_processed,
                           "resume_after": item.resume_after, "head": item.head}  # fmt: skip
                await asyncio.to_thread(store.audit, f"chain.{item.kind}", payload)
        except StoreError as exc:
            log.error("detection output not recorded in the store", error=exc.user_message, item=repr(item))
        finally:
            # Whatever happened to the record, the item goes on (to the printer, the responder).
            result = sink(item)
            if result is not None:
                await result

    return record


UNJUDGED = "tx.unjudged"  # audit kind of a mined transaction that could not be judged
WATCH_LEASE = "watch"  # one `bulwark watch` per store


def _gone(holder: str) -> bool:
    """Is ``holder`` (host:pid:nonce) a process of this host that no longer exists? A holder on
    another host, or one we cannot tell about, is taken to be alive until its lease expires."""
    host, _, rest = holder.partition(":")
    pid_text = rest.partition(":")[0]
    if host != socket.gethostname() or not pid_text.isdigit() or int(pid_text) == os.getpid():
        return False
    try:
        os.kill(int(pid_text), 0)
    except ProcessLookupError:
        return True
    except OSError:  # exists, owned by someone else
        return False
    return False


def lease_holder_id() -> str:
    """host:pid:nonce, unique to this process (a pid alone is reused across hosts and restarts)."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


@contextlib.asynccontextmanager
async def holding_lease(
    store: Store, name: str = WATCH_LEASE, *, ttl_s: float = 30.0, renew_s: float = 10.0
) -> AsyncIterator[asyncio.Future[None]]:
    """Hold the store lease ``name`` for the body (:class:`~bulwark.errors.LeaseHeld` at once when
    another live process holds it), renewed every ``renew_s``; released on the way out. A holder
    that dies stops renewing, so its lease is taken over ``ttl_s`` later.

    Yields a future that fails with ``LeaseHeld`` if the lease is lost meanwhile (this process
    stalled past ``ttl_s`` and another took over): the caller must then stop.
    """
    holder = lease_holder_id()
    current = await asyncio.to_thread(store.lease_holder, name)
    dead = current[0] if current is not None and _gone(current[0]) else None
    if dead is not None:
        log.warning("taking over the lease of a process that no longer exists", lease=name, holder=dead)
    await asyncio.to_thread(store.acquire_lease, name, holder, ttl_s, dead=dead)
    lost: asyncio.Future[None] = asyncio.get_running_loop().create_future()

    async def renew() -> None:
        while True:
            await asyncio.sleep(renew_s)
            try:
                await asyncio.to_thread(store.acquire_lease, name, holder, ttl_s)
            except LeaseHeld as exc:
                log.error("watch lease lost to another process; stopping", error=exc.user_message)
                lost.set_exception(exc)
                return
            except StoreError as exc:  # the database is down: nobody else can take it either
                log.warning("watch lease not renewed; retrying", error=exc.user_message)

    renewer = asyncio.create_task(renew())
    try:
        yield lost
    finally:
        renewer.cancel()
        await asyncio.gather(renewer, return_exceptions=True)
        if not lost.done():
            lost.cancel()
        with contextlib.suppress(StoreError):
            await asyncio.to_thread(store.release_lease, name, holder)


__all__ = ["UNJUDGED", "WATCH_LEASE", "StoreCheckpoints", "holding_lease", "lease_holder_id", "recording"]
