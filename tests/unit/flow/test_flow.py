"""The state machine with stand-in steps (real store). The real stages are wired in e2e tests."""

import asyncio
from collections import Counter
from pathlib import Path

import pytest

from bulwark.domain import Action, Confidence, Finding, IncidentState, Severity, VulnClass
from bulwark.flow import FlowEvent, IncidentFlow, Step, StepContext, StepOutcome
from bulwark.store import Store

S = IncidentState
HAPPY = [
    ("contain", S.CONTAINED),
    ("patch", S.PATCHED),
    ("verify", S.VERIFIED),
    ("approve", S.APPROVED),
    ("upgrade", S.UPGRADED),
    ("resume", S.RESUMED),
    ("close", S.CLOSED),
]


class Crash(Exception):
    """Stands in for the process dying mid-incident."""


def _finding() -> Finding:
    return Finding(
        "outflow",
        VulnClass.ORACLE_MANIPULATION,
        Severity.CRITICAL,
        Confidence.HIGH,
        "drain",
        "demo",
        None,
        "0x" + "ab" * 32,
        True,
        action=Action.PAUSE,
    )


def _steps(calls: Counter[str], crash_at: str | None = None, fail_at: str | None = None) -> list[Step]:
    def make(name: str):
        async def run(ctx: StepContext) -> StepOutcome:
            calls[name] += 1
            if name == crash_at:
                raise Crash(name)
            if name == fail_at:
                return StepOutcome(False, reason="attack still succeeds", failure_state=S.ESCALATED)
            # Each step sees what ran before it, in order.
            return StepOutcome(True, {"saw": sorted(ctx.records), "tx": f"0x{name}"})

        return run

    return [Step(name, to, make(name)) for name, to in HAPPY]


@pytest.fixture
def store(tmp_path: Path) -> Store:
    return Store(f"sqlite:///{tmp_path / 'flow.db'}")


def test_happy_path_closes_and_records_every_step(store: Store) -> None:
    calls: Counter[str] = Counter()
    events: list[FlowEvent] = []
    flow = IncidentFlow(store, _steps(calls), on_event=events.append)
    iid = flow.open(_finding())
    assert asyncio.run(flow.run(iid)) is S.CLOSED
    assert calls == Counter({name: 1 for name, _ in HAPPY})
    records = flow.records(iid)
    assert records["verify"]["saw"] == ["contain", "patch"]
    assert [e.kind for e in events if e.step == "upgrade"] == ["started", "done"]
    transitions = [e.payload["to"] for e in store.audit_entries(iid) if e.kind == "incident.transition"]
    assert transitions == [s.value for _, s in HAPPY]
    assert store.verify_audit().ok


def test_a_failed_step_escalates_and_stops(store: Store) -> None:
    calls: Counter[str] = Counter()
    flow = IncidentFlow(store, _steps(calls, fail_at="verify"))
    iid = flow.open(_finding())
    assert asyncio.run(flow.run(iid)) is S.ESCALATED
    assert calls["approve"] == 0 and calls["upgrade"] == 0
    assert "attack still succeeds" in store.audit_entries(iid)[-1].payload["reason"]


@pytest.mark.parametrize("crash_at", [name for name, _ in HAPPY])
def test_crash_at_any_step_resumes_without_repeating_or_skipping(store: Store, crash_at: str) -> None:
    calls: Counter[str] = Counter()
    flow = IncidentFlow(store, _steps(calls, crash_at=crash_at))
    iid = flow.open(_finding())
    with pytest.raises(Crash):
        asyncio.run(flow.run(iid))
    # A new process: a fresh flow over the same database.
    restarted = IncidentFlow(Store(store.url), _steps(calls))
    assert asyncio.run(restarted.run(iid)) is S.CLOSED
    assert calls[crash_at] == 2  # the interrupted step runs again (it never recorded a result)
    assert all(calls[name] == 1 for name, _ in HAPPY if name != crash_at)


def test_crash_between_record_and_transition_finishes_the_transition(store: Store) -> None:
    calls: Counter[str] = Counter()
    flow = IncidentFlow(store, _steps(calls))
    iid = flow.open(_finding())
    # The contain step's result was stored, then the process died before the transition.
    store.put_artifact(f"{iid}/contain", "step", {"tx": "0xpause"}, incident_id=iid, state="done")
    assert asyncio.run(flow.run(iid)) is S.CLOSED
    assert calls["contain"] == 0
    assert flow.records(iid)["patch"]["saw"] == ["contain"]


def test_duplicate_step_names_are_refused(store: Store) -> None:
    async def noop(_ctx: StepContext) -> StepOutcome:
        return StepOutcome(True)

    with pytest.raises(ValueError, match="unique"):
        IncidentFlow(store, [Step("a", S.CONTAINED, noop), Step("a", S.PATCHED, noop)])


def test_a_step_that_commits_its_own_transition_is_not_transitioned_twice(store: Store) -> None:
    """The responder moves an incident to CONTAINED itself once its pause lands; a contain step
    that re-sends the pause through it must not make the flow try CONTAINED -> CONTAINED."""

    async def contain(ctx: StepContext) -> StepOutcome:
        ctx.store.transition(ctx.incident_id, S.CONTAINED, "pause landed")
        return StepOutcome(True, {"tx": "0xpause"})

    async def patch(_ctx: StepContext) -> StepOutcome:
        return StepOutcome(True)

    flow = IncidentFlow(store, [Step("contain", S.CONTAINED, contain), Step("patch", S.PATCHED, patch)])
    iid = flow.open(_finding())
    assert asyncio.run(flow.run(iid)) is S.PATCHED
    moves = [e.payload["to"] for e in store.audit_entries(iid) if e.kind == "incident.transition"]
    assert moves == ["contained", "patched"]


def test_a_waiting_step_stops_the_flow_and_is_re_entered_until_done(store: Store) -> None:
    """Signatures and timelock delays: the step waits (state kept, one audit entry per reason),
    the next run re-enters it, and once it is done the flow goes on to CLOSED."""
    signed = {"n": 0}
    runs: Counter[str] = Counter()

    async def approve(ctx: StepContext) -> StepOutcome:
        runs["approve"] += 1
        if signed["n"] < 2:
            return StepOutcome.wait(f"{signed['n']} of 2 signatures", {"proposal_id": "prop-1"})
        return StepOutcome(True, {"proposal_id": "prop-1"})

    calls: Counter[str] = Counter()
    steps = [s if s.name != "approve" else Step("approve", S.APPROVED, approve) for s in _steps(calls)]
    events: list[FlowEvent] = []
    flow = IncidentFlow(store, steps, on_event=events.append)
    iid = flow.open(_finding())
    assert asyncio.run(flow.run(iid)) is S.VERIFIED
    assert asyncio.run(flow.run(iid)) is S.VERIFIED  # same reason: re-entered quietly
    assert flow.waiting(iid) == ("approve", "0 of 2 signatures")
    signed["n"] = 1
    assert asyncio.run(flow.run(iid)) is S.VERIFIED
    assert flow.waiting(iid) == ("approve", "1 of 2 signatures")
    signed["n"] = 2
    assert asyncio.run(flow.run(iid)) is S.CLOSED
    assert flow.waiting(iid) is None
    assert runs["approve"] == 4
    assert calls["patch"] == calls["verify"] == calls["upgrade"] == 1  # nothing before it repeated
    audit = [(e.kind, e.payload.get("step")) for e in store.audit_entries(iid)]
    assert audit.count(("step.waiting", "approve")) == 2
    assert audit.count(("step.started", "approve")) == 1
    assert [e.kind for e in events if e.step == "approve"] == ["started", "waiting", "waiting", "done"]
