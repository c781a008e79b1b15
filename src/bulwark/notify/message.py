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


ANCHOR_EVENT = "audit.anchor"


def anchor_notification(anchor: dict[str, Any], *, keyed: bool) -> Notification:
    """The audit log's head as a notification: the receiver keeps a copy the database's writer
    cannot rewrite; ``bulwark audit verify --anchor FILE`` takes this message's JSON body back.
    ``anchor`` is ``bulwark.store.audit.Anchor.to_json()`` (seq, head, at, mac)."""
    seq, head = anchor["seq"], anchor["head"]
    how = "signed with the audit key" if keyed else "NOT signed (no audit key configured)"
    return Notification(
        ANCHOR_EVENT,
        f"audit log anchor: entry {seq}",
        f"The audit log reached entry {seq} with hash {head} ({how}). Keep this message: "
        "`bulwark audit verify --anchor FILE` proves the log was not cut or rewritten since.",
        Severity.INFO,
        fields=tuple((k, str(anchor[k])) for k in ("seq", "head", "at", "mac") if anchor.get(k) is not None),
        at=str(anchor["at"]),
    )
