"""The records of scenario runs (``bulwark demo``, ``bulwark scenario run --protect full``).

A run records, before anything is watched, what a restarted process needs to carry its incident on
(its chain, its protocol's addresses, the configuration it wrote, its options) as an artifact of
kind :data:`RUN_KIND`. These queries tell which run opened an incident, so that ``bulwark watch``
leaves a lab's incidents to the lab (:mod:`bulwark.lab.resume`). Nothing here knows a scenario.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from bulwark.store import Store

__all__ = ["RUN_KIND", "run_incidents", "run_of", "runs"]

RUN_KIND = "scenario-run"


def _utc(at: datetime) -> datetime:
    """SQLite hands timestamps back naive (they were written in UTC)."""
    return at.replace(tzinfo=UTC) if at.tzinfo is None else at.astimezone(UTC)


def _started(run: Mapping[str, Any]) -> datetime:
    return _utc(datetime.fromisoformat(str(run["started_at"])))


def runs(store: Store) -> list[dict[str, Any]]:
    """Every recorded scenario run, oldest first."""
    return sorted((body for _id, _state, body in store.artifacts(RUN_KIND)), key=_started)


def run_of(store: Store, incident_id: str) -> dict[str, Any] | None:
    """The scenario run that opened ``incident_id``: the run that listed it once containment was
    over, or, when the run died before that, the last run started before the incident opened
    (runs on one store follow each other: each waits for its own chain)."""
    recorded = runs(store)
    for body in recorded:
        if incident_id in body.get("incidents", []):
            return body
    opened = _utc(store.incident(incident_id).opened_at)
    before = [b for b in recorded if _started(b) <= opened]
    if not before or before[-1].get("incidents"):
        return None  # the latest run before it finished containment without listing it
    # ...and its findings are about that run's protocol (a watch may share the store).
    doc = before[-1].get("protocol") or {}
    ours = {str(c["proxy"]).lower() for c in (doc.get("components") or {}).values()}
    named = {str(f.get("contract") or "").lower() for f in store.findings(incident_id)} - {""}
    if ours and named and not named & ours:
        return None
    return before[-1]


def run_incidents(store: Store, run: Mapping[str, Any]) -> list[str]:
    """The incidents ``run`` opened: listed by it, or (it died first) opened while it was the
    latest run."""
    if run.get("incidents"):
        return list(run["incidents"])
    start = _started(run)
    until = min((_started(b) for b in runs(store) if _started(b) > start), default=None)
    return [
        i.id
        for i in store.incidents()
        if _utc(i.opened_at) >= start and (until is None or _utc(i.opened_at) < until)
    ]
