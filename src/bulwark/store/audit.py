"""The append-only, hash-chained audit log.

Each entry's hash covers its sequence number, time, kind, incident and canonical JSON payload plus
the previous entry's hash, so altering, inserting or deleting any row breaks every later link.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

GENESIS = "0x" + "00" * 32


def canonical_json(value: Any) -> str:
    """Sorted keys, no spaces, UTF-8: the same document always hashes the same."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


def entry_hash(seq: int, at: str, kind: str, incident_id: str | None, payload: str, prev: str) -> str:
    body = canonical_json(
        {"seq": seq, "at": at, "kind": kind, "incident": incident_id, "payload": payload, "prev": prev}
    )
    return "0x" + hashlib.sha256(body.encode()).hexdigest()


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
class AuditVerification:
    ok: bool
    entries: int
    first_broken: int | None = None
    reason: str = ""
