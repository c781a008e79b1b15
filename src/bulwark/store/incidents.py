"""Incidents and the findings behind them: opening, the state machine's transitions, reorgs."""

from __future__ import annotations

import json
import uuid
from datetime import datetime
from typing import Any, cast

from sqlalchemy import CursorResult, select, update

from bulwark.domain import Finding, IncidentState
from bulwark.domain.canonical import canonical_json
from bulwark.domain.finding import finding_to_json
from bulwark.domain.incident import can_transition
from bulwark.errors import StoreError
from bulwark.store.engine import now
from bulwark.store.journal import Journal
from bulwark.store.models import FindingRow, IncidentRow
from bulwark.store.records import IncidentRecord


class IncidentTable(Journal):
    def open_incident(self, finding: Finding, incident_id: str | None = None) -> IncidentRecord:
        iid = incident_id or f"inc-{uuid.uuid4().hex[:12]}"
        at = now()
        with self._tx() as session:
            row = IncidentRow(
                id=iid,
                protocol=finding.protocol,
                state=IncidentState.DETECTED.value,
                severity=finding.severity.name.lower(),
                vuln_class=finding.vuln_class.value,
                title=finding.title,
                opened_at=at,
                updated_at=at,
                version=0,
            )
            session.add(row)
            session.flush()
            self._append(
                session, "incident.opened", {"state": "detected", "finding": finding_to_json(finding)}, iid
            )
            session.add(_finding_row(finding, iid, at))
        return self.incident(iid)

    def incident(self, incident_id: str) -> IncidentRecord:
        with self._tx() as session:
            row = session.get(IncidentRow, incident_id)
            if row is None:
                raise StoreError(f"no incident {incident_id!r}; list them with `bulwark incidents`")
            return IncidentRecord.of(row)

    def incidents(self, state: IncidentState | None = None) -> list[IncidentRecord]:
        with self._tx() as session:
            q = select(IncidentRow).order_by(IncidentRow.opened_at)
            if state is not None:
                q = q.where(IncidentRow.state == state.value)
            return [IncidentRecord.of(r) for r in session.execute(q).scalars()]

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
                .values(state=to.value, updated_at=now(), version=row.version + 1)
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
            row = _finding_row(finding, incident_id, now(), block_hash)
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
        """Each finding as :func:`bulwark.domain.finding_to_json` wrote it (``finding_from_json``
        reads it back), with the row's ``id`` and ``withdrawn``."""
        with self._tx() as session:
            q = select(FindingRow).order_by(FindingRow.id)
            if incident_id is not None:
                q = q.where(FindingRow.incident_id == incident_id)
            if not include_withdrawn:
                q = q.where(FindingRow.withdrawn.is_(False))
            return [dict(r.data, id=r.id, withdrawn=r.withdrawn) for r in session.execute(q).scalars()]


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
        # through canonical JSON: what the database holds is what any reader decodes
        data=json.loads(canonical_json(finding_to_json(f))),
        at=at,
    )
