"""Where long-running jobs stand: the watcher's checkpoints, and the leases that give each named
job one holder at a time."""

from __future__ import annotations

from datetime import datetime, timedelta

from bulwark.errors import LeaseHeld
from bulwark.store.engine import aware, now
from bulwark.store.journal import Journal
from bulwark.store.models import CheckpointRow, LeaseRow
from bulwark.store.records import Checkpoint


class CheckpointTable(Journal):
    def load(self, name: str) -> Checkpoint | None:
        with self._tx() as session:
            row = session.get(CheckpointRow, name)
            return Checkpoint(row.block_number, row.block_hash, dict(row.data)) if row else None

    def save(self, name: str, checkpoint: Checkpoint) -> None:
        with self._tx() as session:
            row = session.get(CheckpointRow, name)
            if row is None:
                session.add(
                    CheckpointRow(
                        name=name,
                        block_number=checkpoint.block_number,
                        block_hash=checkpoint.block_hash,
                        data=checkpoint.data,
                        at=now(),
                    )
                )
            else:
                row.block_number, row.block_hash = checkpoint.block_number, checkpoint.block_hash
                row.data, row.at = checkpoint.data, now()


class LeaseTable(Journal):
    def acquire_lease(self, name: str, holder: str, ttl_s: float, *, dead: str | None = None) -> None:
        """Take ``name`` for ``holder`` until ``ttl_s`` from now, or raise ``LeaseHeld``.

        A lease whose holder stopped renewing it (a crashed process) is taken over once expired;
        the holder's own lease is simply renewed. ``dead`` names a holder known to be gone (its
        process no longer exists): its lease is taken over at once, and only if it still holds it.
        """
        at = now()
        with self._tx() as session:
            row = session.get(LeaseRow, name, with_for_update=True)
            alive = row is not None and row.holder != dead and aware(row.expires_at) > at
            if row is not None and row.holder != holder and alive:
                raise LeaseHeld(
                    f"{name} is held by {row.holder} until {aware(row.expires_at).isoformat()}; "
                    "stop that process first, or wait for its lease to expire"
                )
            if row is None:
                expires = at + timedelta(seconds=ttl_s)
                session.add(LeaseRow(name=name, holder=holder, acquired_at=at, expires_at=expires))
            else:
                if row.holder != holder:
                    row.holder, row.acquired_at = holder, at
                row.expires_at = at + timedelta(seconds=ttl_s)

    def release_lease(self, name: str, holder: str) -> None:
        """Give ``name`` up, if ``holder`` still holds it."""
        with self._tx() as session:
            row = session.get(LeaseRow, name)
            if row is not None and row.holder == holder:
                session.delete(row)

    def lease_holder(self, name: str) -> tuple[str, datetime] | None:
        """(holder, expiry) of a live lease, or None."""
        with self._tx() as session:
            row = session.get(LeaseRow, name)
            if row is None or aware(row.expires_at) <= now():
                return None
            return row.holder, aware(row.expires_at)
