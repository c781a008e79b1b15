"""Actions taken for an incident (a pause sent, a proposal made): one row per incident, kind and
step, advanced in place, every change audited. Recording the same step again is idempotent."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from bulwark.store.engine import now
from bulwark.store.journal import Journal
from bulwark.store.models import ActionRow
from bulwark.store.records import ActionRecord


class ActionTable(Journal):
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
                    at=now(),
                )
                session.add(row)
            else:
                row.status = status
                row.tx_hash = tx_hash or row.tx_hash
                row.block_number = block_number if block_number is not None else row.block_number
                row.data = {**row.data, **(data or {})}
                row.at = now()
            session.flush()
            self._append(
                session,
                f"action.{status}",
                {"kind": kind, "step": step, "tx_hash": tx_hash, "block": block_number, "data": data or {}},
                incident_id,
            )
            return ActionRecord.of(row)

    def action(self, incident_id: str, kind: str, step: str = "") -> ActionRecord | None:
        with self._tx() as session:
            row = session.execute(
                select(ActionRow).where(
                    ActionRow.incident_id == incident_id, ActionRow.kind == kind, ActionRow.step == step
                )
            ).scalar()
            return ActionRecord.of(row) if row else None

    def actions(self, incident_id: str) -> list[ActionRecord]:
        with self._tx() as session:
            q = select(ActionRow).where(ActionRow.incident_id == incident_id).order_by(ActionRow.id)
            return [ActionRecord.of(r) for r in session.execute(q).scalars()]
