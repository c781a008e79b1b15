"""Checking the audit log: the hash chain, the MACs under the audit key, the anchors sent out, and
the incident and action tables against a replay of the log."""

from __future__ import annotations

import hmac
import json
from collections.abc import Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from bulwark.domain.canonical import canonical_json
from bulwark.store.audit import (
    GENESIS,
    KEYED,
    UNKEYED,
    Anchor,
    AuditVerification,
    ReplayedRows,
    entry_hash,
    entry_mac,
    replay,
)
from bulwark.store.models import ActionRow, AuditRow, IncidentRow


def verify_log(session: Session, key: bytes | None, anchors: Sequence[Anchor] = ()) -> AuditVerification:
    """Recompute the chain (and, with ``key``, every entry's MAC); check it still reaches each
    anchor with the same hash; replay it and compare the incident and action tables. Name the
    first entry, anchor or row that does not hold."""
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
                return broken(row.seq, "entry carries no MAC: written or rewritten without the audit key")
            if row.mac is not None and not hmac.compare_digest(row.mac, entry_mac(key, row.hash)):
                return broken(row.seq, "MAC does not match under the audit key: the entry was rewritten")
            if row.mac is not None and keyed_from is None:
                keyed_from = row.seq
        elif row.mac is not None:
            unchecked += 1
        prev = row.hash
        hashes[row.seq] = row.hash
        replayed.append((row.kind, row.incident_id, json.loads(row.payload)))
    incidents = [
        (r.id, r.state) for r in session.execute(select(IncidentRow).order_by(IncidentRow.id)).scalars()
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
            f"{KEYED} from entry {keyed_from}; entries 1..{keyed_from - 1} predate the key: hash-chained only"
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
                f"the log ends at entry {count} but {where} saw it reach entry {anchor.seq}: {gone} deleted",
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
