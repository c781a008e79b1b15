"""Read models: what the pages and the JSON API show, built from the store alone.

Everything returned is plain JSON-ready data (the same document feeds a template and an
``/api`` response), so the two faces of the dashboard never disagree.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from bulwark.domain import IncidentState
from bulwark.errors import StoreError
from bulwark.store import AuditEntry, Store
from bulwark.store.db import IncidentRecord

_S = IncidentState
# What an incident's state says about its protocol.
_PROTOCOL_STATUS = {
    _S.DETECTED: "under attack",
    _S.CONTAINED: "paused",
    _S.PATCHED: "paused",
    _S.VERIFIED: "paused",
    _S.APPROVED: "paused",
    _S.UPGRADED: "paused",
    _S.RESUMED: "operating",
    _S.CLOSED: "operating",
    _S.FAILED: "paused (operator needed)",
    _S.ESCALATED: "paused (decision needed)",
}
HAPPY_PATH = ("detected", "contained", "patched", "verified", "approved", "upgraded", "resumed", "closed")
OPEN_PROPOSAL_STATES = ("pending", "approved", "scheduled")


class NotFound(LookupError):
    pass


def _utc(moment: datetime) -> datetime:
    """SQLite hands back naive datetimes (stored as UTC), PostgreSQL aware ones: make them alike."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def incident_json(r: IncidentRecord) -> dict[str, Any]:
    return {
        "id": r.id,
        "protocol": r.protocol,
        "state": r.state.value,
        "severity": r.severity,
        "class": r.vuln_class,
        "title": r.title,
        "opened_at": _utc(r.opened_at).isoformat(),
        "updated_at": _utc(r.updated_at).isoformat(),
    }


def incidents(store: Store) -> list[dict[str, Any]]:
    """Newest first."""
    return [incident_json(r) for r in reversed(store.incidents())]


def protocols(store: Store) -> list[dict[str, Any]]:
    """Every protocol seen in an incident or a finding, with what its latest incident says."""
    latest: dict[str, IncidentRecord] = {}
    for r in store.incidents():
        latest[r.protocol] = r  # ordered by opening time: the last one wins
    out: dict[str, dict[str, Any]] = {
        name: {
            "protocol": name,
            "status": _PROTOCOL_STATUS[r.state],
            "incident": r.id,
            "state": r.state.value,
            "since": _utc(r.updated_at).isoformat(),
        }
        for name, r in latest.items()
    }
    for f in store.findings():
        name = str(f.get("protocol") or "")
        if name and name not in out:
            out[name] = {
                "protocol": name,
                "status": "operating",
                "incident": None,
                "state": None,
                "since": None,
            }
    return sorted(out.values(), key=lambda p: str(p["protocol"]))


def findings(store: Store, incident_id: str | None = None, limit: int = 200) -> list[dict[str, Any]]:
    """Newest first."""
    return list(reversed(store.findings(incident_id)))[:limit]


def _summary(e: AuditEntry) -> str:
    p = e.payload
    if e.kind == "incident.opened":
        return f"opened: {p.get('finding', {}).get('title', '')}"
    if e.kind == "incident.transition":
        return f"{p.get('from')} → {p.get('to')}: {p.get('reason', '')}"
    if e.kind == "step.started":
        return f"step {p.get('step')} started"
    if e.kind.startswith("action."):
        tx = f" tx {p['tx_hash']}" if p.get("tx_hash") else ""
        return f"{p.get('kind')} {e.kind.split('.', 1)[1]}{tx}"
    if e.kind.endswith(".stored"):
        return f"stored {p.get('id')} ({str(p.get('sha256', ''))[:18]}…)"
    if e.kind.endswith(".state"):
        return f"{p.get('id')}: {p.get('from')} → {p.get('to')} {p.get('reason', '')}".rstrip()
    return json.dumps(p, sort_keys=True)[:200]


def audit_json(e: AuditEntry) -> dict[str, Any]:
    return {
        "seq": e.seq,
        "at": e.at,
        "kind": e.kind,
        "incident": e.incident_id,
        "payload": e.payload,
        "prev_hash": e.prev_hash,
        "hash": e.hash,
        "summary": _summary(e),
    }


def audit(store: Store, incident_id: str | None = None) -> list[dict[str, Any]]:
    return [audit_json(e) for e in store.audit_entries(incident_id)]


def verification(store: Store) -> dict[str, Any]:
    return store.verify_audit().to_json()


def _timeline(entries: list[AuditEntry], opened: datetime) -> list[dict[str, Any]]:
    out = []
    for e in entries:
        item = audit_json(e)
        try:
            item["offset_ms"] = round((_utc(datetime.fromisoformat(e.at)) - opened).total_seconds() * 1000, 1)
        except ValueError:
            item["offset_ms"] = None
        out.append(item)
    return out


def _step(artifact_id: str, state: str, body: Mapping[str, Any]) -> dict[str, Any]:
    name = artifact_id.split("/", 1)[1] if "/" in artifact_id else artifact_id
    diff = body.get("diff") if isinstance(body.get("diff"), str) else None
    evidence = body.get("evidence")
    scalars = {
        k: v
        for k, v in body.items()
        if k not in ("diff", "evidence") and (v is None or isinstance(v, str | int | float | bool))
    }
    nested = {k: v for k, v in body.items() if k not in ("diff", "evidence") and k not in scalars}
    return {
        "name": name,
        "state": state,
        "record": dict(body),
        "scalars": scalars,
        "nested": json.dumps(nested, indent=2, sort_keys=True, default=str) if nested else "",
        "diff": diff,
        "evidence_hash": body.get("evidence_hash"),
        "evidence": json.dumps(evidence, indent=2, sort_keys=True, default=str)
        if evidence is not None
        else "",
    }


def diff_lines(diff: str) -> list[tuple[str, str]]:
    """(css class, line) for a unified diff; the template escapes the text."""
    out = []
    for line in diff.splitlines():
        if line.startswith(("+++", "---")):
            cls = "file"
        elif line.startswith("@@"):
            cls = "hunk"
        elif line.startswith("+"):
            cls = "add"
        elif line.startswith("-"):
            cls = "del"
        else:
            cls = "ctx"
        out.append((cls, line))
    return out


def verdict_json(store: Store, evidence_hash: object) -> dict[str, Any]:
    """The verdict stored under a proposal's evidence hash, for display beside the hash.

    ``found`` is false when there is none, or when the stored document no longer hashes to it:
    the page then warns that nothing backs the proposal."""
    if not isinstance(evidence_hash, str) or not evidence_hash:
        return {"found": False, "problem": "the proposal names no evidence hash"}
    try:
        recorded = store.verdict(evidence_hash)
    except StoreError as exc:
        return {"found": False, "problem": exc.user_message}
    if recorded is None:
        return {"found": False, "problem": f"no verdict with evidence hash {evidence_hash} in the store"}
    return {"found": True, **recorded.summary()}


def proposal_json(store: Store, proposal_id: str, state: str, body: Mapping[str, Any]) -> dict[str, Any]:
    signed: list[str] = []
    rejected: list[str] = []
    for signer, decision, _sig in store.signatures(proposal_id):
        (signed if decision == "approve" else rejected).append(signer)
    eligible = [str(a) for a in body.get("eligible", [])]
    done = {s.lower() for s in signed + rejected}
    threshold = body.get("threshold")
    return {
        "id": proposal_id,
        "state": state,
        "incident": body.get("incident_id"),
        "protocol": body.get("protocol"),
        "action": body.get("action"),
        "component": body.get("component"),
        "description": body.get("description", ""),
        "evidence_hash": body.get("evidence_hash"),
        "verdict": verdict_json(store, body.get("evidence_hash")),
        "implementation_codehash": body.get("implementation_codehash"),
        "chain_id": body.get("chain_id"),
        "safe": body.get("safe"),
        "safe_txs": list(body.get("safe_txs", [])),
        "threshold": threshold,
        "eligible": eligible,
        "signed": signed,
        "rejected_by": rejected,
        "missing": [a for a in eligible if a.lower() not in done],
        "met": isinstance(threshold, int) and len(signed) >= threshold,
        "expires_at": body.get("expires_at"),
        "open": state in OPEN_PROPOSAL_STATES,
        "body": dict(body),
    }


def proposals(store: Store, incident_id: str | None = None) -> list[dict[str, Any]]:
    return [
        proposal_json(store, pid, state, body)
        for pid, state, body in store.artifacts("proposal", incident_id)
    ]


def proposal(store: Store, proposal_id: str) -> dict[str, Any]:
    try:
        kind, state, body = store.artifact(proposal_id)
    except StoreError:
        raise NotFound(proposal_id) from None
    if kind != "proposal":
        raise NotFound(proposal_id)
    return proposal_json(store, proposal_id, state, body)


def incident_detail(store: Store, incident_id: str) -> dict[str, Any]:
    record = next((r for r in store.incidents() if r.id == incident_id), None)
    if record is None:
        raise NotFound(incident_id)
    steps = [_step(aid, state, body) for aid, state, body in store.artifacts("step", incident_id)]
    reached = HAPPY_PATH.index(record.state.value) if record.state.value in HAPPY_PATH else -1
    return {
        "incident": incident_json(record),
        "path": [{"state": s, "reached": i <= reached} for i, s in enumerate(HAPPY_PATH)],
        "findings": store.findings(incident_id, include_withdrawn=True),
        "actions": [
            {
                "kind": a.kind,
                "step": a.step,
                "status": a.status,
                "tx_hash": a.tx_hash,
                "block": a.block_number,
                "data": a.data,
            }
            for a in store.actions(incident_id)
        ],
        "steps": steps,
        "timeline": _timeline(store.audit_entries(incident_id), _utc(record.opened_at)),
        "proposals": proposals(store, incident_id),
    }
