"""The audit log against a writer who can edit the database (#16.5): the tail cut off, a row edited
and the rest re-chained, the incident and action tables edited behind the log's back."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from sqlalchemy import create_engine, text
from tests.unit.store.test_store import _finding

from bulwark.domain import IncidentState
from bulwark.store import Store
from bulwark.store.audit import KEYED, UNKEYED, Anchor, entry_hash

KEY = "audit-key-for-tests-only"


@pytest.fixture
def keyed(store: Store) -> Iterator[Store]:
    """A second handle on the same database, holding the audit key (as the writer would)."""
    s = Store(store.url, audit_key=KEY)
    yield s
    s.close()


def _sql(store: Store, statement: str, **params: object) -> None:
    engine = create_engine(store.url)
    with engine.begin() as conn:
        conn.execute(text(statement), params)
    engine.dispose()


def _rechain_from(store: Store, seq: int, payload: dict[str, object]) -> None:
    """What an attacker with write access does: edit entry ``seq`` and recompute every later hash."""
    engine = create_engine(store.url)
    with engine.begin() as conn:
        rows = conn.execute(
            text("SELECT seq, at, kind, incident_id, payload, prev_hash FROM audit_log ORDER BY seq")
        ).all()
        prev = None
        # Hashes are unique: move every row aside first, then write the re-chained ones back.
        conn.execute(
            text("UPDATE audit_log SET prev_hash = 'x' || seq, hash = 'y' || seq WHERE seq >= :s"), {"s": seq}
        )
        for r in rows:
            if r.seq < seq:
                prev = conn.execute(text("SELECT hash FROM audit_log WHERE seq = :s"), {"s": r.seq}).scalar()
                continue
            body = json.dumps(payload, sort_keys=True, separators=(",", ":")) if r.seq == seq else r.payload
            digest = entry_hash(r.seq, r.at, r.kind, r.incident_id, body, prev)
            conn.execute(
                text("UPDATE audit_log SET payload = :p, prev_hash = :v, hash = :h WHERE seq = :s"),
                {"p": body, "v": prev, "h": digest, "s": r.seq},
            )
            prev = digest
    engine.dispose()


def _history(store: Store) -> str:
    inc = store.open_incident(_finding())
    store.transition(inc.id, IncidentState.CONTAINED, "paused")
    store.record_action(inc.id, "pause", "sent", step="contain", tx_hash="0x" + "11" * 32)
    store.record_action(inc.id, "pause", "confirmed", step="contain", block_number=7, data={"gas": 50_000})
    store.transition(inc.id, IncidentState.PATCHED, "patched")
    return inc.id


def test_a_rewritten_and_rechained_row_passes_the_hash_chain_but_not_the_key(
    keyed: Store, store: Store
) -> None:
    _history(keyed)
    assert keyed.verify_audit().ok and keyed.verify_audit().mode == KEYED
    _rechain_from(keyed, 2, {"from": "detected", "to": "contained", "reason": "nothing happened", "data": {}})
    unkeyed = store.verify_audit()  # without the key the forgery is indistinguishable: say so
    assert unkeyed.ok and unkeyed.mode == UNKEYED and unkeyed.unchecked_macs == 5
    result = keyed.verify_audit()
    assert not result.ok and result.first_broken == 2 and "MAC does not match" in result.reason


def test_an_entry_written_without_the_key_breaks_a_keyed_log(keyed: Store, store: Store) -> None:
    keyed.audit("note", {"i": 1})
    store.audit("note", {"i": 2})  # a writer that does not hold the key
    result = keyed.verify_audit()
    assert not result.ok and result.first_broken == 2 and "no MAC" in result.reason


def test_a_cut_off_tail_is_caught_by_an_anchor(keyed: Store) -> None:
    _history(keyed)
    keyed.audit("note", {"i": 1})
    keyed.audit("note", {"i": 2})
    anchor = keyed.audit_anchor()
    assert anchor.seq == 7 and anchor.mac is not None
    _sql(keyed, "DELETE FROM audit_log WHERE seq >= 6")
    assert keyed.verify_audit().ok  # the chain that is left is whole...
    result = keyed.verify_audit([Anchor.from_json(json.loads(json.dumps(anchor.to_json())))])
    assert not result.ok and result.first_broken == 6  # ...but no longer reaches the anchor
    assert "entries 6..7 were deleted" in result.reason


def test_a_log_rechained_before_the_anchor_no_longer_matches_it(store: Store) -> None:
    _history(store)
    anchor = store.audit_anchor()  # unkeyed: no signature, the hash still binds
    _rechain_from(store, 2, {"from": "detected", "to": "contained", "reason": "a drill", "data": {}})
    assert store.verify_audit().ok
    result = store.verify_audit([anchor])
    assert not result.ok and result.first_broken == 5 and "rewritten" in result.reason
    assert store.verify_audit([store.audit_anchor()]).ok


def test_a_forged_anchor_is_refused_under_the_key(keyed: Store) -> None:
    _history(keyed)
    real = keyed.audit_anchor()
    forged = Anchor(real.seq, real.head, "2030-01-01T00:00:00+00:00", real.mac)
    assert keyed.verify_audit([real]).ok and keyed.verify_audit([real]).anchors == 1
    result = keyed.verify_audit([forged])
    assert not result.ok and "not signed with this audit key" in result.reason


def test_incident_and_action_rows_are_checked_against_the_log(store: Store) -> None:
    iid = _history(store)
    ok = store.verify_audit()
    assert ok.ok and ok.rows == 2
    _sql(store, "UPDATE incidents SET state = 'closed' WHERE id = :i", i=iid)
    result = store.verify_audit()
    assert not result.ok
    assert result.reason == f"incident {iid} is 'closed' in the incidents table, 'patched' in the log"
    _sql(store, "UPDATE incidents SET state = 'patched' WHERE id = :i", i=iid)
    _sql(store, "UPDATE actions SET tx_hash = :t", t="0x" + "22" * 32)
    result = store.verify_audit()
    assert not result.ok and result.reason.startswith(f"action pause/contain of incident {iid}: tx_hash is")
    _sql(store, "UPDATE actions SET tx_hash = :t", t="0x" + "11" * 32)
    _sql(store, "DELETE FROM actions")
    result = store.verify_audit()
    assert not result.ok and "missing from the actions table" in result.reason
