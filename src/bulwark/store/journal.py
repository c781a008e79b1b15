"""The database and its audit log: every table module of the store writes through :class:`Journal`.

A change and the audit entry describing it are written in one database transaction (``_tx`` and
``_append``), so the log never misses a change and never records one that did not happen.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Engine, select
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from bulwark.domain import IncidentState
from bulwark.domain.canonical import canonical_json
from bulwark.errors import StoreError
from bulwark.logs import get_logger
from bulwark.store.audit import GENESIS, Anchor, AuditEntry, entry_hash, entry_mac
from bulwark.store.engine import migrate, now, open_engine, safe_url
from bulwark.store.models import AuditRow

log = get_logger(__name__)


class Journal:
    """One database, migrated on open, and the hash-chained audit log every write appends to."""

    def __init__(self, url: str, *, audit_key: str | bytes | None = None) -> None:
        """``audit_key`` (resolved from ``audit_key: env:NAME|file:PATH``) keys the audit log:
        every entry written carries an HMAC under it, and verification checks them all."""
        self.url = url
        self._audit_key = audit_key.encode() if isinstance(audit_key, str) else audit_key
        self._anchor_sink: Callable[[Anchor], None] | None = None
        self._anchor_every_s = 3600.0
        self._anchored_at = 0.0
        self._anchor_due = False
        self._engine: Engine = open_engine(url)
        self._sessions = sessionmaker(self._engine, expire_on_commit=False)
        self.migrate()

    def migrate(self) -> None:
        migrate(self._engine, self.url)

    def close(self) -> None:
        self._engine.dispose()

    @contextmanager
    def _tx(self) -> Iterator[Session]:
        try:
            with self._sessions.begin() as session:
                yield session
        except OperationalError as exc:
            raise StoreError(f"database error on {safe_url(self.url)}: {exc.orig}") from exc
        self._maybe_anchor()  # after the commit: the anchor covers what was just written

    def _append(
        self, session: Session, kind: str, payload: dict[str, Any], incident_id: str | None
    ) -> AuditEntry:
        tip = session.execute(
            select(AuditRow).order_by(AuditRow.seq.desc()).limit(1).with_for_update()
        ).scalar()
        seq = (tip.seq + 1) if tip else 1
        prev = tip.hash if tip else GENESIS
        at = now().isoformat()
        body = canonical_json(payload)
        digest = entry_hash(seq, at, kind, incident_id, body, prev)
        mac = entry_mac(self._audit_key, digest) if self._audit_key else None
        if self._anchor_sink is not None and (
            (kind == "incident.transition" and payload.get("to") == IncidentState.CLOSED.value)
            or time.monotonic() - self._anchored_at >= self._anchor_every_s
        ):
            self._anchor_due = True
        session.add(
            AuditRow(
                seq=seq,
                at=at,
                kind=kind,
                incident_id=incident_id,
                payload=body,
                prev_hash=prev,
                hash=digest,
                mac=mac,
            )
        )
        session.flush()
        return AuditEntry(seq, at, kind, incident_id, payload, prev, digest)

    def audit(self, kind: str, payload: dict[str, Any], incident_id: str | None = None) -> AuditEntry:
        """Append one entry; retried once if another writer took the same sequence number."""
        for attempt in range(3):
            try:
                with self._tx() as session:
                    return self._append(session, kind, payload, incident_id)
            except IntegrityError:
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    def audit_entries(self, incident_id: str | None = None) -> list[AuditEntry]:
        with self._tx() as session:
            q = select(AuditRow).order_by(AuditRow.seq)
            if incident_id is not None:
                q = q.where(AuditRow.incident_id == incident_id)
            return [
                AuditEntry(r.seq, r.at, r.kind, r.incident_id, json.loads(r.payload), r.prev_hash, r.hash)
                for r in session.execute(q).scalars()
            ]

    def set_anchor_sink(self, sink: Callable[[Anchor], None], every_s: float = 3600.0) -> None:
        """Hand an anchor to ``sink`` (the notification channels) when an incident closes, and
        after a write once ``every_s`` have passed since the last one."""
        self._anchor_sink, self._anchor_every_s = sink, every_s
        self._anchored_at = time.monotonic()

    def _maybe_anchor(self) -> None:
        if self._anchor_sink is None or not self._anchor_due:
            return
        self._anchor_due = False
        self._anchored_at = time.monotonic()
        try:
            self._anchor_sink(self.audit_anchor())
        except Exception as exc:  # a failing channel must never fail the write that triggered it
            log.warning("audit anchor not sent", error=str(exc))

    @property
    def audit_keyed(self) -> bool:
        return self._audit_key is not None

    def audit_anchor(self) -> Anchor:
        """The log's head now (sequence number, hash, time), signed with the audit key if any:
        what goes to the notification channels, out of this database's reach."""
        with self._tx() as session:
            tip = session.execute(select(AuditRow).order_by(AuditRow.seq.desc()).limit(1)).scalar()
            seq, head = (tip.seq, tip.hash) if tip else (0, GENESIS)
        return Anchor(seq, head, now().isoformat()).signed(self._audit_key)
