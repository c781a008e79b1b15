from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import create_engine, text

from bulwark.domain import Action, Confidence, Finding, IncidentState, Severity, VulnClass
from bulwark.domain.incident import TRANSITIONS, can_transition
from bulwark.errors import StoreError
from bulwark.store import Store, canonical_json
from bulwark.store.db import Checkpoint


def _finding(title: str = "outflow of 900 USD") -> Finding:
    return Finding(
        detector="invariant-outflow",
        vuln_class=VulnClass.ORACLE_MANIPULATION,
        severity=Severity.CRITICAL,
        confidence=Confidence.HIGH,
        title=title,
        protocol="demo",
        contract=None,
        tx_hash=None,
        pending=True,
        action=Action.PAUSE,
        evidence={"loss": 10**21},
    )


def test_incident_walks_the_happy_path_and_audits_each_step(store: Store) -> None:
    inc = store.open_incident(_finding())
    for state in (
        IncidentState.CONTAINED,
        IncidentState.PATCHED,
        IncidentState.VERIFIED,
        IncidentState.APPROVED,
        IncidentState.UPGRADED,
        IncidentState.RESUMED,
        IncidentState.CLOSED,
    ):
        inc = store.transition(inc.id, state, reason=f"to {state.value}")
        assert inc.state is state
    kinds = [e.kind for e in store.audit_entries(inc.id)]
    assert kinds == ["incident.opened"] + ["incident.transition"] * 7
    assert store.verify_audit().ok


def test_illegal_transition_is_refused_and_not_audited(store: Store) -> None:
    inc = store.open_incident(_finding())
    before = len(store.audit_entries())
    with pytest.raises(StoreError, match="cannot go from detected to upgraded"):
        store.transition(inc.id, IncidentState.UPGRADED, reason="skip ahead")
    assert store.incident(inc.id).state is IncidentState.DETECTED
    assert len(store.audit_entries()) == before


def test_audit_verify_names_the_altered_entry(store: Store) -> None:
    inc = store.open_incident(_finding())
    store.transition(inc.id, IncidentState.CONTAINED, reason="paused")
    store.transition(inc.id, IncidentState.PATCHED, reason="patched")
    assert store.verify_audit().ok
    engine = create_engine(store.url)
    with engine.begin() as conn:
        conn.execute(text("UPDATE audit_log SET payload = :p WHERE seq = 2"), {"p": '{"forged":true}'})
    engine.dispose()
    result = store.verify_audit()
    assert not result.ok
    assert result.first_broken == 2
    assert "hash" in result.reason


def test_audit_verify_detects_a_deleted_entry(store: Store) -> None:
    for i in range(4):
        store.audit("note", {"i": i})
    engine = create_engine(store.url)
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM audit_log WHERE seq = 2"))
    engine.dispose()
    result = store.verify_audit()
    assert not result.ok and result.first_broken == 3


def test_actions_are_idempotent_per_step(store: Store) -> None:
    inc = store.open_incident(_finding())
    store.record_action(inc.id, "pause", "intended", data={"target": "0xabc"})
    store.record_action(inc.id, "pause", "sent", tx_hash="0x" + "11" * 32)
    store.record_action(inc.id, "pause", "confirmed", block_number=7)
    actions = store.actions(inc.id)
    assert len(actions) == 1
    assert (actions[0].status, actions[0].tx_hash, actions[0].block_number) == (
        "confirmed",
        "0x" + "11" * 32,
        7,
    )
    assert actions[0].data == {"target": "0xabc"}


def test_findings_on_an_orphaned_block_are_withdrawn(store: Store) -> None:
    store.record_finding(_finding("a"), block_hash="0x" + "aa" * 32)
    store.record_finding(_finding("b"), block_hash="0x" + "bb" * 32)
    assert store.withdraw_findings("0x" + "aa" * 32) == 1
    assert [f["title"] for f in store.findings()] == ["b"]
    assert len(store.findings(include_withdrawn=True)) == 2


def test_checkpoint_round_trip_survives_reopen(store: Store) -> None:
    store.save("heads:demo", Checkpoint(41, "0x" + "cd" * 32, {"confirmations": 2}))
    store.save("heads:demo", Checkpoint(42, "0x" + "ef" * 32, {}))
    reopened = Store(store.url)
    cp = reopened.load("heads:demo")
    reopened.close()
    assert cp == Checkpoint(42, "0x" + "ef" * 32, {})


def test_signatures_reject_a_duplicate_signer(store: Store) -> None:
    store.put_artifact("prop-1", "proposal", {"safe_tx_hash": "0x01"}, state="open")
    store.add_signature("prop-1", "0xA", "approve", "0xsig")
    with pytest.raises(StoreError, match="already signed"):
        store.add_signature("prop-1", "0xA", "approve", "0xsig")
    assert store.signatures("prop-1") == [("0xA", "approve", "0xsig")]


def test_unreachable_database_is_a_clear_error() -> None:
    with pytest.raises(StoreError, match="unreachable") as info:
        Store("postgresql+psycopg://nobody:secretpw@127.0.0.1:1/none")
    assert "secretpw" not in info.value.user_message


def test_unwritable_sqlite_path_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="unreachable"):
        Store(f"sqlite:///{tmp_path / 'missing' / 'dir' / 'x.db'}")


def test_every_state_but_closed_has_a_way_out() -> None:
    for state, targets in TRANSITIONS.items():
        assert bool(targets) == (state is not IncidentState.CLOSED)
        assert not can_transition(state, IncidentState.DETECTED)


@settings(max_examples=50, deadline=None)
@given(
    st.dictionaries(
        st.text(max_size=8), st.one_of(st.integers(), st.text(max_size=8), st.booleans()), max_size=6
    )
)
def test_canonical_json_ignores_key_order(d: dict) -> None:
    reordered = dict(reversed(list(d.items())))
    assert canonical_json(d) == canonical_json(reordered)
