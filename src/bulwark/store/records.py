"""What the store hands back: incidents, actions and checkpoints as frozen records."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from bulwark.domain import IncidentState
from bulwark.store.models import ActionRow, IncidentRow


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

    @classmethod
    def of(cls, r: IncidentRow) -> IncidentRecord:
        state = IncidentState(r.state)
        return cls(r.id, r.protocol, state, r.severity, r.vuln_class, r.title, r.opened_at, r.updated_at)


@dataclass(frozen=True, slots=True)
class ActionRecord:
    incident_id: str
    kind: str
    step: str
    status: str
    tx_hash: str | None
    block_number: int | None
    data: dict[str, Any]

    @classmethod
    def of(cls, r: ActionRow) -> ActionRecord:
        return cls(r.incident_id, r.kind, r.step, r.status, r.tx_hash, r.block_number, dict(r.data))


@dataclass(frozen=True, slots=True)
class Checkpoint:
    block_number: int
    block_hash: str
    data: dict[str, Any]
