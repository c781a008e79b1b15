"""What a notification says, independent of the channel that carries it."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from bulwark.domain import Severity


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


@dataclass(frozen=True, slots=True)
class Notification:
    """One message for humans: an incident changed state, a finding fired, an action failed.

    ``event`` is a stable machine name (``incident.contained``); ``fields`` are short
    label/value pairs shown as a table by channels that can (Slack, Discord, email).
    """

    event: str
    title: str
    text: str
    severity: Severity = Severity.INFO
    incident_id: str | None = None
    protocol: str | None = None
    state: str | None = None
    url: str | None = None
    fields: tuple[tuple[str, str], ...] = ()
    at: str = field(default_factory=_now)

    def as_json(self) -> dict[str, Any]:
        """The generic webhook body (also what Bulwark's own receivers parse)."""
        return {
            "event": self.event,
            "title": self.title,
            "text": self.text,
            "severity": self.severity.name.lower(),
            "incident": self.incident_id,
            "protocol": self.protocol,
            "state": self.state,
            "url": self.url,
            "fields": {k: v for k, v in self.fields},
            "at": self.at,
        }
