"""The store: one object over one database, migrated on open."""

from __future__ import annotations

import hmac
import json
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, cast

from alembic import command
from alembic.config import Config
from sqlalchemy import CursorResult, Engine, create_engine, event, make_url, select, update
from sqlalchemy.exc import IntegrityError, OperationalError, SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from bulwark.domain import Finding, IncidentState
from bulwark.domain.canonical import canonical_json
from bulwark.domain.evidence import RecordedVerdict, hash_document
from bulwark.domain.incident import can_transition
from bulwark.errors import LeaseHeld, StoreError
from bulwark.logs import get_logger, mask
from bulwark.store.audit import (
    GENESIS,
    KEYED,
    UNKEYED,
    Anchor,
    AuditEntry,
    AuditVerification,
    ReplayedRows,
    entry_hash,
    entry_mac,
    replay,
)
from bulwark.store.models import (
    ActionRow,
    ArtifactRow,
    AuditRow,
    CheckpointRow,
    FindingRow,
    IncidentRow,
    LeaseRow,
    SignatureRow,
)

_MIGRATIONS = Path(__file__).with_name("migrations")
log = get_logger(__name__)


def _safe(url: str) -> str:
    """The URL as it may appear in a message: no password."""
    try:
        return mask(make_url(url).render_as_string(hide_password=True))
    except Exception:
        return "<database url>"


def default_url(data_dir: Path) -> str:
    data_dir.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{data_dir / 'bulwark.db'}"


def _now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True, slots=True)
class IncidentRecord:
    id: str
    protocol: str
    state: IncidentState
    severity: str
    vuln_class: str
    title: str
    opened_at: datetime
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class ActionRecord:
    incident_id: str
    kind: str
    step: str
    status: str
    tx_hash: str | None
    block_number: int | None
    data: dict[str, Any]


@dataclass(frozen=True, slots=True)
class Checkpoint:
    block_number: int
    block_hash: str
    data: dict[str, Any]


class Store:
    """Incidents, findings, actions, artifacts, checkpoints and the audit log.

    Every state transition is written to the audit log in the same database transaction that
    changes the state, before the caller acts on it.
    """

    def __init__(self, url: str, *, audit_key: str | bytes | None = None) -> None:
        """``audit_key`` (resolved from ``audit_key: env:NAME|file:PATH``) keys the audit log:
        every entry written carries an HMAC under it, and verification checks them all."""
        self.url = url
        self._audit_key = audit_key.encode() if isinstance(audit_key, str) else audit_key
        self._anchor_sink: Callable[[Anchor], None] | None = None
        self._anchor_every_s = 3600.0
        self._anchored_at = 0.0
        self._anchor_due = False
        try:
            self._engine: Engine = create_engine(url, future=True)
        except (SQLAlchemyError, ImportError, ValueError) as exc:
            raise StoreError(f"cannot open database {_safe(url)}: {exc}; check database_url") from exc
        if url.startswith("sqlite"):
            event.listen(self._engine, "connect", _sqlite_pragmas)
            # Serialise writers up front so two appenders never read the same chain tip.
            event.listen(self._engine, "begin", lambda conn: conn.exec_driver_sql("BEGIN IMMEDIATE"))
        self._sessions = sessionmaker(self._engine, expire_on_commit=False)
        self.migrate()

    def migrate(self) -> None:
        cfg = Config()
        cfg.set_main_option("script_location", str(_MIGRATIONS))
        cfg.set_main_option("sqlalchemy.url", self.url.replace("%", "%%"))
        try:
            with self._engine.begin() as conn:
                cfg.attributes["connection"] = conn
                command.upgrade(cfg, "head")
        except OperationalError as exc:
            raise StoreError(
                f"database {_safe(self.url)} is unreachable: {exc.orig}; "
                "check database_url and that the server is running"
            ) from exc

    def close(self) -> None:
        self._engine.dispose()

    @contextmanager
    def _tx(self) -> Iterator[Session]:
        try:
            with self._sessions.begin() as session:
                yield session
        except OperationalError as exc:
            raise StoreError(f"database error on {_safe(self.url)}: {exc.orig}") from exc
        self._maybe_anchor()  # after the commit: the anchor covers what was just written

    # -- audit log -------------------------------------------------------------------------------

    def _append(
        self, session: Session, kind: str, payload: dict[str, Any], incident_id: str | None
    ) -> AuditEntry:
        tip = session.execute(
            select(AuditRow).order_by(AuditRow.seq.desc()).limit(1).with_for_update()
        ).scalar()
        seq = (tip.seq + 1) if tip else 1
        prev = tip.hash if tip else GENESIS
        at = _now().isoformat()
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
        return Anchor(seq, head, _now().isoformat()).signed(self._audit_key)

    def verify_audit(self, anchors: Sequence[Anchor] = ()) -> AuditVerification:
        """Recompute the chain (and, with the audit key, every entry's MAC); check it still
        reaches each anchor with the same hash; replay it and compare the incident and action
        tables. Name the first entry, anchor or row that does not hold."""
        key = self._audit_key
        mode = KEYED if key else UNKEYED
        prev = GENESIS
        count = unchecked = 0
        # Entries written before the key was configured carry no MAC: accepted only as a prefix
        # (a rewrite there re-chains every later, keyed entry and breaks its MAC).
        keyed_from: int | None = None
        hashes: dict[int, str] = {}
        replayed: list[tuple[str, str | None, dict[str, Any]]] = []

        def broken(seq: int | None, reason: str) -> AuditVerification:
            return AuditVerification(False, count, seq, reason, mode, unchecked)

        with self._tx() as session:
            for row in session.execute(select(AuditRow).order_by(AuditRow.seq)).scalars():
                count += 1
                if row.seq != count:
                    return broken(row.seq, f"entry {count} is missing (found {row.seq})")
                if row.prev_hash != prev:
                    return broken(row.seq, "link to the previous entry is broken")
                digest = entry_hash(row.seq, row.at, row.kind, row.incident_id, row.payload, row.prev_hash)
                if digest != row.hash:
                    return broken(row.seq, "content does not match its hash")
                if key is not None:
                    if row.mac is None and keyed_from is not None:
                        return broken(
                            row.seq, "entry carries no MAC: written or rewritten without the audit key"
                        )
                    if row.mac is not None and not hmac.compare_digest(row.mac, entry_mac(key, row.hash)):
                        return broken(
                            row.seq, "MAC does not match under the audit key: the entry was rewritten"
                        )
                    if row.mac is not None and keyed_from is None:
                        keyed_from = row.seq
                elif row.mac is not None:
                    unchecked += 1
                prev = row.hash
                hashes[row.seq] = row.hash
                replayed.append((row.kind, row.incident_id, json.loads(row.payload)))
            incidents = [
                (r.id, r.state)
                for r in session.execute(select(IncidentRow).order_by(IncidentRow.id)).scalars()
            ]
            actions = [
                (r.incident_id, r.kind, r.step, r.status, r.tx_hash, r.block_number, dict(r.data))
                for r in session.execute(select(ActionRow).order_by(ActionRow.id)).scalars()
            ]
        if key is not None and count and keyed_from is None:
            return broken(
                None,
                "no entry carries a MAC although an audit key is given: the log was not keyed, or stripped",
            )
        if key is not None and keyed_from is not None and keyed_from > 1:
            mode = (
                f"{KEYED} from entry {keyed_from}; "
                f"entries 1..{keyed_from - 1} predate the key: hash-chained only"
            )
        for anchor in anchors:
            where = f"the anchor of {anchor.at} (entry {anchor.seq})"
            if key is not None and not anchor.signature_ok(key):
                return broken(None, f"{where} is not signed with this audit key: it proves nothing")
            if anchor.seq > count:
                gone = (
                    f"entry {anchor.seq} was"
                    if anchor.seq == count + 1
                    else f"entries {count + 1}..{anchor.seq} were"
                )
                return broken(
                    count + 1,
                    f"the log ends at entry {count} but {where} saw it reach entry {anchor.seq}: "
                    f"{gone} deleted",
                )
            if anchor.seq > 0 and hashes[anchor.seq] != anchor.head:
                return broken(
                    anchor.seq,
                    f"entry {anchor.seq} hashes to {hashes[anchor.seq]}, {where} says {anchor.head}: "
                    "the log was rewritten up to there",
                )
        mismatch = _row_mismatch(replay(replayed), incidents, actions)
        if mismatch is not None:
            return broken(None, mismatch)
        return AuditVerification(
            True, count, None, "", mode, unchecked, len(anchors), len(incidents) + len(actions)
        )

    # -- incidents -------------------------------------------------------------------------------

    def open_incident(self, finding: Finding, incident_id: str | None = None) -> IncidentRecord:
        iid = incident_id or f"inc-{uuid.uuid4().hex[:12]}"
        now = _now()
        with self._tx() as session:
            row = IncidentRow(
                id=iid,
                protocol=finding.protocol,
                state=IncidentState.DETECTED.value,
                severity=finding.severity.name.lower(),
                vuln_class=finding.vuln_class.value,
                title=finding.title,
                opened_at=now,
                updated_at=now,
                version=0,
            )
            session.add(row)
            session.flush()
            self._append(
                session, "incident.opened", {"state": "detected", "finding": _finding_json(finding)}, iid
            )
            session.add(_finding_row(finding, iid, now))
        return self.incident(iid)

    def incident(self, incident_id: str) -> IncidentRecord:
        with self._tx() as session:
            row = session.get(IncidentRow, incident_id)
            if row is None:
                raise StoreError(f"no incident {incident_id!r}; list them with `bulwark incidents`")
            return _incident(row)

    def incidents(self, state: IncidentState | None = None) -> list[IncidentRecord]:
        with self._tx() as session:
            q = select(IncidentRow).order_by(IncidentRow.opened_at)
            if state is not None:
                q = q.where(IncidentRow.state == state.value)
            return [_incident(r) for r in session.execute(q).scalars()]

    def transition(
        self, incident_id: str, to: IncidentState, reason: str, data: dict[str, Any] | None = None
    ) -> IncidentRecord:
        """Move an incident to ``to``: the audit entry and the new state commit together."""
        with self._tx() as session:
            row = session.get(IncidentRow, incident_id)
            if row is None:
                raise StoreError(f"no incident {incident_id!r}")
            current = IncidentState(row.state)
            if not can_transition(current, to):
                raise StoreError(f"incident {incident_id} cannot go from {current.value} to {to.value}")
            result = session.execute(
                update(IncidentRow)
                .where(IncidentRow.id == incident_id, IncidentRow.version == row.version)
                .values(state=to.value, updated_at=_now(), version=row.version + 1)
            )
            changed = cast("CursorResult[Any]", result).rowcount
            if changed != 1:
                raise StoreError(f"incident {incident_id} changed concurrently; retry")
            self._append(
                session,
                "incident.transition",
                {"from": current.value, "to": to.value, "reason": reason, "data": data or {}},
                incident_id,
            )
        return self.incident(incident_id)

    # -- findings --------------------------------------------------------------------------------

    def record_finding(
        self, finding: Finding, incident_id: str | None = None, block_hash: str | None = None
    ) -> int:
        with self._tx() as session:
            row = _finding_row(finding, incident_id, _now(), block_hash)
            session.add(row)
            session.flush()
            return row.id

    def withdraw_findings(self, block_hash: str) -> int:
        """A reorg orphaned ``block_hash``: its findings no longer stand."""
        with self._tx() as session:
            result = session.execute(
                update(FindingRow)
                .where(FindingRow.block_hash == block_hash, FindingRow.withdrawn.is_(False))
                .values(withdrawn=True)
            )
            n = cast("CursorResult[Any]", result).rowcount
            if n:
                self._append(session, "findings.withdrawn", {"block_hash": block_hash, "count": n}, None)
            return int(n)

    def findings(
        self, incident_id: str | None = None, include_withdrawn: bool = False
    ) -> list[dict[str, Any]]:
        with self._tx() as session:
            q = select(FindingRow).order_by(FindingRow.id)
            if incident_id is not None:
                q = q.where(FindingRow.incident_id == incident_id)
            if not include_withdrawn:
                q = q.where(FindingRow.withdrawn.is_(False))
            return [dict(r.data, id=r.id, withdrawn=r.withdrawn) for r in session.execute(q).scalars()]

    # -- actions (idempotent: one row per incident/kind/step) ------------------------------------

    def record_action(
        self,
        incident_id: str,
        kind: str,
        status: str,
        *,
        step: str = "",
        tx_hash: str | None = None,
        block_number: int | None = None,
        data: dict[str, Any] | None = None,
    ) -> ActionRecord:
        """Insert or advance the action ``(incident, kind, step)``; every change is audited."""
        with self._tx() as session:
            row = session.execute(
                select(ActionRow).where(
                    ActionRow.incident_id == incident_id, ActionRow.kind == kind, ActionRow.step == step
                )
            ).scalar()
            if row is None:
                row = ActionRow(
                    incident_id=incident_id,
                    kind=kind,
                    step=step,
                    status=status,
                    tx_hash=tx_hash,
                    block_number=block_number,
                    data=data or {},
                    at=_now(),
                )
                session.add(row)
            else:
                row.status = status
                row.tx_hash = tx_hash or row.tx_hash
                row.block_number = block_number if block_number is not None else row.block_number
                row.data = {**row.data, **(data or {})}
                row.at = _now()
            session.flush()
            self._append(
                session,
                f"action.{status}",
                {"kind": kind, "step": step, "tx_hash": tx_hash, "block": block_number, "data": data or {}},
                incident_id,
            )
            return _action(row)

    def action(self, incident_id: str, kind: str, step: str = "") -> ActionRecord | None:
        with self._tx() as session:
            row = session.execute(
                select(ActionRow).where(
                    ActionRow.incident_id == incident_id, ActionRow.kind == kind, ActionRow.step == step
                )
            ).scalar()
            return _action(row) if row else None

    def actions(self, incident_id: str) -> list[ActionRecord]:
        with self._tx() as session:
            q = select(ActionRow).where(ActionRow.incident_id == incident_id).order_by(ActionRow.id)
            return [_action(r) for r in session.execute(q).scalars()]

    # -- artifacts and signatures ----------------------------------------------------------------

    def put_artifact(
        self,
        artifact_id: str,
        kind: str,
        body: dict[str, Any],
        *,
        incident_id: str | None = None,
        state: str = "",
    ) -> str:
        """Store a document; returns its canonical-JSON sha256."""
        digest = hash_document(body)
        with self._tx() as session:
            row = session.get(ArtifactRow, artifact_id)
            if row is None:
                session.add(
                    ArtifactRow(
                        id=artifact_id,
                        incident_id=incident_id,
                        kind=kind,
                        state=state,
                        sha256=digest,
                        body=body,
                        at=_now(),
                    )
                )
            else:
                row.body, row.sha256, row.state = body, digest, state or row.state
            session.flush()
            self._append(
                session, f"{kind}.stored", {"id": artifact_id, "sha256": digest, "state": state}, incident_id
            )
        return digest

    def artifact(self, artifact_id: str) -> tuple[str, str, dict[str, Any]]:
        """(kind, state, body) of a stored document."""
        with self._tx() as session:
            row = session.get(ArtifactRow, artifact_id)
            if row is None:
                raise StoreError(f"no stored {artifact_id!r}")
            return row.kind, row.state, dict(row.body)

    def artifacts(self, kind: str, incident_id: str | None = None) -> list[tuple[str, str, dict[str, Any]]]:
        with self._tx() as session:
            q = select(ArtifactRow).where(ArtifactRow.kind == kind).order_by(ArtifactRow.at)
            if incident_id is not None:
                q = q.where(ArtifactRow.incident_id == incident_id)
            return [(r.id, r.state, dict(r.body)) for r in session.execute(q).scalars()]

    def put_evidence(self, document: dict[str, Any], *, incident_id: str | None = None) -> str:
        """Store an evidence document under its own hash (``evidence:<sha256>``); returns the hash."""
        digest = hash_document(document)
        state = "verified" if document.get("pass") is True else "failed"
        self.put_artifact(f"evidence:{digest}", "evidence", document, incident_id=incident_id, state=state)
        return digest

    def verdict(self, evidence_hash: str) -> RecordedVerdict | None:
        """The verdict whose evidence document is stored under ``evidence_hash``, or ``None``.

        The document is re-hashed: one edited in the database since it was stored is refused."""
        key = f"evidence:{evidence_hash.lower()}"
        with self._tx() as session:
            row = session.get(ArtifactRow, key) or session.get(ArtifactRow, f"evidence:{evidence_hash}")
            if row is None or row.kind != "evidence":
                return None
            body = dict(row.body)
        digest = hash_document(body)
        if digest != evidence_hash.lower():
            raise StoreError(
                f"the stored evidence {evidence_hash} hashes to {digest}: it was altered after it was "
                "stored; verify the candidate again"
            )
        return RecordedVerdict.from_document(digest, body)

    def set_artifact_state(self, artifact_id: str, state: str, reason: str = "") -> None:
        with self._tx() as session:
            row = session.get(ArtifactRow, artifact_id)
            if row is None:
                raise StoreError(f"no stored {artifact_id!r}")
            old, row.state = row.state, state
            self._append(
                session,
                f"{row.kind}.state",
                {"id": artifact_id, "from": old, "to": state, "reason": reason},
                row.incident_id,
            )

    def add_signature(self, proposal_id: str, signer: str, decision: str, signature: str) -> None:
        try:
            with self._tx() as session:
                session.add(
                    SignatureRow(
                        proposal_id=proposal_id,
                        signer=signer,
                        decision=decision,
                        signature=signature,
                        at=_now(),
                    )
                )
                session.flush()
                self._append(
                    session, f"signature.{decision}", {"proposal": proposal_id, "signer": signer}, None
                )
        except IntegrityError as exc:
            raise StoreError(f"{signer} has already signed proposal {proposal_id}") from exc

    def signatures(self, proposal_id: str) -> list[tuple[str, str, str]]:
        """(signer, decision, signature) in the order they arrived."""
        with self._tx() as session:
            q = select(SignatureRow).where(SignatureRow.proposal_id == proposal_id).order_by(SignatureRow.id)
            return [(r.signer, r.decision, r.signature) for r in session.execute(q).scalars()]

    # -- checkpoints (the watcher's progress) ----------------------------------------------------

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
                        at=_now(),
                    )
                )
            else:
                row.block_number, row.block_hash = checkpoint.block_number, checkpoint.block_hash
                row.data, row.at = checkpoint.data, _now()

    # -- leases (one holder per named job) -----------------------------------------------------------

    def acquire_lease(self, name: str, holder: str, ttl_s: float, *, dead: str | None = None) -> None:
        """Take ``name`` for ``holder`` until ``ttl_s`` from now, or raise ``LeaseHeld``.

        A lease whose holder stopped renewing it (a crashed process) is taken over once expired;
        the holder's own lease is simply renewed. ``dead`` names a holder known to be gone (its
        process no longer exists): its lease is taken over at once, and only if it still holds it.
        """
        now = _now()
        with self._tx() as session:
            row = session.get(LeaseRow, name, with_for_update=True)
            alive = row is not None and row.holder != dead and _aware(row.expires_at) > now
            if row is not None and row.holder != holder and alive:
                raise LeaseHeld(
                    f"{name} is held by {row.holder} until {_aware(row.expires_at).isoformat()}; "
                    "stop that process first, or wait for its lease to expire"
                )
            if row is None:
                expires = now + timedelta(seconds=ttl_s)
                session.add(LeaseRow(name=name, holder=holder, acquired_at=now, expires_at=expires))
            else:
                if row.holder != holder:
                    row.holder, row.acquired_at = holder, now
                row.expires_at = now + timedelta(seconds=ttl_s)

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
            if row is None or _aware(row.expires_at) <= _now():
                return None
            return row.holder, _aware(row.expires_at)


def _aware(at: datetime) -> datetime:
    """SQLite hands timestamps back naive; they were written in UTC."""
    return at if at.tzinfo is not None else at.replace(tzinfo=UTC)


def _sqlite_pragmas(dbapi_conn: Any, _: Any) -> None:
    # Python's sqlite3 would otherwise open its own implicit transactions and ignore BEGIN IMMEDIATE.
    dbapi_conn.isolation_level = None
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA busy_timeout=10000")
    cur.close()


def _finding_json(f: Finding) -> dict[str, Any]:
    return {
        "detector": f.detector,
        "class": f.vuln_class.value,
        "severity": f.severity.name.lower(),
        "confidence": f.confidence.name.lower(),
        "title": f.title,
        "protocol": f.protocol,
        "contract": f.contract,
        "tx_hash": f.tx_hash,
        "pending": f.pending,
        "block_number": f.block_number,
        "function": f.function,
        "action": f.action.value,
        "selectors": list(f.selectors),
        "evidence": f.evidence,
    }


def _finding_row(
    f: Finding, incident_id: str | None, at: datetime, block_hash: str | None = None
) -> FindingRow:
    return FindingRow(
        incident_id=incident_id,
        detector=f.detector,
        vuln_class=f.vuln_class.value,
        severity=f.severity.name.lower(),
        protocol=f.protocol,
        contract=f.contract,
        tx_hash=f.tx_hash,
        block_number=f.block_number,
        block_hash=block_hash,
        pending=f.pending,
        withdrawn=False,
        data=json.loads(canonical_json(_finding_json(f))),
        at=at,
    )


def _incident(r: IncidentRow) -> IncidentRecord:
    return IncidentRecord(
        r.id, r.protocol, IncidentState(r.state), r.severity, r.vuln_class, r.title, r.opened_at, r.updated_at
    )


def _action(r: ActionRow) -> ActionRecord:
    return ActionRecord(r.incident_id, r.kind, r.step, r.status, r.tx_hash, r.block_number, dict(r.data))


def _row_mismatch(
    log: ReplayedRows,
    incidents: list[tuple[str, str]],
    actions: list[tuple[str, str, str, str, str | None, int | None, dict[str, Any]]],
) -> str | None:
    """The first incident or action row that differs from what the log says, described."""
    seen = set()
    for iid, state in incidents:
        seen.add(iid)
        logged = log.incidents.get(iid)
        if logged is None:
            return f"incident {iid} is in the incidents table but not in the log"
        if logged != state:
            return f"incident {iid} is {state!r} in the incidents table, {logged!r} in the log"
    for iid in log.incidents:
        if iid not in seen:
            return f"incident {iid} is in the log but missing from the incidents table"
    keys = set()
    for iid, kind, step, status, tx_hash, block, data in actions:
        key = (iid, kind, step)
        keys.add(key)
        name = f"action {kind}{'/' + step if step else ''} of incident {iid}"
        row = log.actions.get(key)
        if row is None:
            return f"{name} is in the actions table but not in the log"
        table = {"status": status, "tx_hash": tx_hash, "block_number": block, "data": data}
        for fname, value in table.items():
            if canonical_json(value) != canonical_json(row[fname]):
                return f"{name}: {fname} is {value!r} in the actions table, {row[fname]!r} in the log"
    for iid, kind, step in log.actions:
        if (iid, kind, step) not in keys:
            name = f"action {kind}{'/' + step if step else ''} of incident {iid}"
            return f"{name} is in the log but missing from the actions table"
    return None
