"""One attack, one incident: the folding rule of ``--protect full`` (real SQLite store).

A scenario is deterministic, so every run of it on one database sends the very same attack
transaction hashes: earlier runs' incidents (stuck ones too) name the same hashes as this run's.
Folding must touch only this run's incidents, and only through legal transitions."""

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bulwark.app.runs import RUN_KIND, run_incidents, run_of
from bulwark.domain import (
    Action,
    Address,
    Confidence,
    Finding,
    IncidentState,
    Severity,
    TxHash,
    VulnClass,
)
from bulwark.domain.incident import can_transition
from bulwark.lab.full import _primary_incident, fold_duplicates, path_to_closed
from bulwark.store import Store

S = IncidentState
ATTACK = TxHash("0x" + "ab" * 32)
OTHER = TxHash("0x" + "cd" * 32)


def _finding(tx: TxHash, detector: str = "oracle", severity: Severity = Severity.CRITICAL) -> Finding:
    return Finding(
        detector,
        VulnClass.ORACLE_MANIPULATION,
        severity,
        Confidence.HIGH,
        "spot price moved",
        "scenario",
        Address("0x" + "11" * 20),
        tx,
        True,
        action=Action.PAUSE,
    )


def _contained(store: Store, tx: TxHash = ATTACK, **kw: object) -> str:
    iid = store.open_incident(_finding(tx, **kw)).id  # type: ignore[arg-type]
    store.transition(iid, S.CONTAINED, "pause landed")
    return iid


@pytest.fixture
def store(tmp_path: Path) -> Store:
    return Store(f"sqlite:///{tmp_path / 'fold.db'}")


def test_an_earlier_runs_stuck_incident_is_never_touched(store: Store) -> None:
    stuck = _contained(store)  # a run killed after its pause: same attack hash, still contained
    primary = _contained(store)
    duplicate = _contained(store, detector="invariant", severity=Severity.HIGH)
    ours = [primary, duplicate]

    assert _primary_incident(store, [ATTACK], ours) == primary
    assert fold_duplicates(store, primary, ours, [ATTACK]) == [duplicate]
    assert store.incident(stuck).state is S.CONTAINED
    assert [e.kind for e in store.audit_entries(stuck)] == ["incident.opened", "incident.transition"]
    assert store.incident(primary).state is S.CONTAINED


def test_a_contained_duplicate_closes_through_legal_transitions_and_says_so(store: Store) -> None:
    primary = _contained(store)
    contained_dup = _contained(store, detector="invariant")
    detected_dup = store.open_incident(_finding(ATTACK, detector="flash")).id
    fold_duplicates(store, primary, [primary, contained_dup, detected_dup], [ATTACK])

    for iid, path in ((contained_dup, ["escalated", "closed"]), (detected_dup, ["closed"])):
        assert store.incident(iid).state is S.CLOSED
        entries = store.audit_entries(iid)
        marked = [e for e in entries if e.kind == "incident.duplicate"]
        assert marked and marked[0].payload["of"] == primary
        moves = [e.payload for e in entries if e.kind == "incident.transition"][-len(path) :]
        assert [m["to"] for m in moves] == path
        assert all(f"duplicate of {primary}" == m["reason"] for m in moves)
    assert store.verify_audit().ok


def test_this_runs_incidents_on_other_transactions_stay_open(store: Store) -> None:
    primary = _contained(store)
    unrelated = _contained(store, tx=OTHER)
    assert fold_duplicates(store, primary, [primary, unrelated], [ATTACK]) == []
    assert store.incident(unrelated).state is S.CONTAINED


def test_incidents_already_carried_on_are_left_alone(store: Store) -> None:
    primary = _contained(store)
    patched = _contained(store, detector="invariant")
    store.transition(patched, S.PATCHED, "someone carries it")
    assert fold_duplicates(store, primary, [primary, patched], [ATTACK]) == []
    assert store.incident(patched).state is S.PATCHED


@pytest.mark.parametrize("state", list(IncidentState))
def test_the_path_to_closed_is_legal_from_every_state(state: IncidentState) -> None:
    path = path_to_closed(state)
    assert path is not None
    assert (path[-1] if path else state) is S.CLOSED
    for a, b in zip([state, *path], path, strict=False):
        assert can_transition(a, b), (a, b)


def _run(store: Store, run_id: str, at: datetime, incidents: list[str] | None = None) -> None:
    store.put_artifact(
        f"run:{run_id}",
        RUN_KIND,
        {"run_id": run_id, "started_at": at.isoformat(), "incidents": incidents or []},
        state="running",
    )


def test_an_incident_belongs_to_the_run_that_listed_it_or_was_running_when_it_opened(store: Store) -> None:
    stuck = _contained(store)  # from before any recorded run
    opened = store.incident(stuck).opened_at.replace(tzinfo=UTC)
    _run(store, "crashed", opened + timedelta(microseconds=1))  # died before listing anything
    inside = store.open_incident(_finding(ATTACK)).id
    assert run_of(store, stuck) is None
    crashed = run_of(store, inside)
    assert crashed is not None and crashed["run_id"] == "crashed"
    assert run_incidents(store, crashed) == [inside]

    # A later run lists its own incidents: exact, and it closes the crashed run's window.
    later_start = store.incident(inside).opened_at.replace(tzinfo=UTC) + timedelta(microseconds=1)
    _run(store, "listed", later_start)
    listed = store.open_incident(_finding(ATTACK)).id
    _run(store, "listed", later_start, incidents=[listed])
    assert run_of(store, listed)["run_id"] == "listed"  # type: ignore[index]
    assert run_incidents(store, crashed) == [inside]
    assert run_of(store, inside)["run_id"] == "crashed"  # type: ignore[index]


def test_a_watch_incident_opened_while_a_crashed_run_was_latest_is_not_the_runs(store: Store) -> None:
    first = store.open_incident(_finding(OTHER)).id
    start = store.incident(first).opened_at.replace(tzinfo=UTC) + timedelta(microseconds=1)
    proxy = {"proxy": "0x" + "11" * 20}  # the contract _finding names
    store.put_artifact(
        "run:crashed",
        RUN_KIND,
        {"run_id": "crashed", "started_at": start.isoformat(), "incidents": [],
         "protocol": {"components": {"oracle": proxy}}},
    )  # fmt: skip
    ours = store.open_incident(_finding(ATTACK)).id
    elsewhere = _finding(ATTACK)
    watched = store.open_incident(
        Finding(elsewhere.detector, elsewhere.vuln_class, elsewhere.severity, elsewhere.confidence,
                elsewhere.title, "lending", Address("0x" + "22" * 20), OTHER, True)
    ).id  # fmt: skip
    assert run_of(store, ours)["run_id"] == "crashed"  # type: ignore[index]
    assert run_of(store, watched) is None
