"""The append-only audit log: hash-chained, keyed when an audit key is configured, anchored outside.

Each entry's hash covers its sequence number, time, kind, incident and canonical JSON payload plus
the previous entry's hash, so altering, inserting or deleting a row in the middle breaks every
later link. A hash chain alone cannot stop whoever can write the database from rewriting a row and
re-chaining everything after it, or from cutting the tail off. Two things close those gaps:

* with an audit key (``audit_key: env:NAME`` or ``file:PATH``), each entry also carries an
  HMAC-SHA256 of its hash under that key, which the database does not hold: a rewritten entry
  cannot be given a valid MAC;
* an anchor (sequence number, head hash, time, MAC) sent to the notification channels, kept where
  the writer cannot reach it: a log that no longer reaches the anchor's entry, or whose entry there
  has another hash, was cut or rewritten.

The incident and action tables are derived state: replaying the log must give each row as it is.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from bulwark.domain.canonical import canonical_json

GENESIS = "0x" + "00" * 32
ANCHOR_FORMAT = "bulwark.audit.anchor/1"
KEYED = "keyed (HMAC-SHA256 under the audit key)"
UNKEYED = "hash-chained only (not keyed: no audit key given)"


def entry_hash(seq: int, at: str, kind: str, incident_id: str | None, payload: str, prev: str) -> str:
    body = canonical_json(
        {"seq": seq, "at": at, "kind": kind, "incident": incident_id, "payload": payload, "prev": prev}
    )
    return "0x" + hashlib.sha256(body.encode()).hexdigest()


def _mac(key: bytes, message: str) -> str:
    return "0x" + hmac.new(key, message.encode(), hashlib.sha256).hexdigest()


def entry_mac(key: bytes, digest: str) -> str:
    """The entry's MAC: its hash (which covers the previous hash) under the audit key."""
    return _mac(key, "bulwark.audit.entry:" + digest)


@dataclass(frozen=True, slots=True)
class AuditEntry:
    seq: int
    at: str
    kind: str
    incident_id: str | None
    payload: dict[str, Any]
    prev_hash: str
    hash: str


@dataclass(frozen=True, slots=True)
class Anchor:
    """The log's head at one moment, signed with the audit key (when there is one)."""

    seq: int
    head: str
    at: str
    mac: str | None = None

    def _message(self) -> str:
        return canonical_json({"format": ANCHOR_FORMAT, "seq": self.seq, "head": self.head, "at": self.at})

    def signed(self, key: bytes | None) -> Anchor:
        return Anchor(self.seq, self.head, self.at, _mac(key, self._message()) if key else None)

    def signature_ok(self, key: bytes) -> bool:
        return self.mac is not None and hmac.compare_digest(self.mac, _mac(key, self._message()))

    def to_json(self) -> dict[str, Any]:
        return {"format": ANCHOR_FORMAT, "seq": self.seq, "head": self.head, "at": self.at, "mac": self.mac}

    @classmethod
    def from_json(cls, doc: Mapping[str, Any]) -> Anchor:
        """An anchor file, or the body of the notification that carried it (its ``fields``)."""
        src = doc.get("fields") if isinstance(doc.get("fields"), Mapping) else doc
        assert isinstance(src, Mapping)
        try:
            seq, head, at = int(src["seq"]), str(src["head"]), str(src["at"])
        except (KeyError, TypeError, ValueError) as exc:
            raise ValueError(f"not an audit anchor (needs seq, head and at): {exc}") from None
        mac = src.get("mac")
        return cls(seq, head, at, str(mac) if mac else None)


@dataclass(frozen=True, slots=True)
class AuditVerification:
    ok: bool
    entries: int
    first_broken: int | None = None
    reason: str = ""
    mode: str = UNKEYED
    unchecked_macs: int = 0  # entries carrying a MAC that was not checked (no key given)
    anchors: int = 0  # anchors the log was checked against
    rows: int = 0  # incident and action rows checked against the log

    def to_json(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "entries": self.entries,
            "first_broken": self.first_broken,
            "reason": self.reason,
            "mode": self.mode,
            "unchecked_macs": self.unchecked_macs,
            "anchors": self.anchors,
            "rows": self.rows,
        }


@dataclass
class ReplayedRows:
    """Incident states and action rows as the log says they are."""

    incidents: dict[str, str] = field(default_factory=dict)
    actions: dict[tuple[str, str, str], dict[str, Any]] = field(default_factory=dict)


def replay(entries: Iterable[tuple[str, str | None, dict[str, Any]]]) -> ReplayedRows:
    """(kind, incident, payload) in order -> the rows the store must hold (mirrors ``Store``)."""
    out = ReplayedRows()
    for kind, incident_id, payload in entries:
        if incident_id is None:
            continue
        if kind == "incident.opened":
            out.incidents[incident_id] = str(payload.get("state", "detected"))
        elif kind == "incident.transition":
            out.incidents[incident_id] = str(payload.get("to"))
        elif kind.startswith("action.") and "kind" in payload:
            key = (incident_id, str(payload["kind"]), str(payload.get("step", "")))
            row = out.actions.get(key) or {"tx_hash": None, "block_number": None, "data": {}}
            row["status"] = kind.removeprefix("action.")
            row["tx_hash"] = payload.get("tx_hash") or row["tx_hash"]
            block = payload.get("block")
            row["block_number"] = block if block is not None else row["block_number"]
            row["data"] = {**row["data"], **(payload.get("data") or {})}
            out.actions[key] = row
    return out
