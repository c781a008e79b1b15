"""The incident state machine: the only module that sequences stages.

DETECTED → CONTAINED → PATCHED → VERIFIED → APPROVED → UPGRADED → RESUMED → CLOSED, with FAILED
and ESCALATED branches. Each step is a small async callable handed in by the composition root
(``bulwark.app``); this module knows nothing of what a stage does, only of order, records and
recovery:

* the step's intent is audited before it runs, its result stored as a JSON record, and the
  transition committed with an audit entry before the next step acts on it;
* a restarted flow resumes from the stored state; a step whose record already exists is not run
  again (its side effects landed), so killing Bulwark at any point neither repeats nor skips an
  action. Steps that send transactions must themselves be idempotent across a crash *inside* the
  step (record the intent and tx hash with ``Store.record_action`` before waiting on it).
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from bulwark.domain import Finding, IncidentState
from bulwark.errors import BulwarkError, StoreError
from bulwark.logs import get_logger
from bulwark.store import Store

log = get_logger(__name__)


@dataclass(frozen=True, slots=True)
class StepContext:
    """What a step sees: its incident and the records of every step that ran before it."""

    incident_id: str
    finding: Mapping[str, Any]
    records: Mapping[str, Mapping[str, Any]]
    store: Store


@dataclass(frozen=True, slots=True)
class StepOutcome:
    ok: bool
    record: dict[str, Any] = field(default_factory=dict)
    reason: str = ""
    # Where a failed step leaves the incident: FAILED needs an operator, ESCALATED a decision.
    failure_state: IncidentState = IncidentState.ESCALATED
    # Not done yet and not failed: people must act first (signatures, a timelock delay). The flow
    # stops where it is; running it again later re-enters this step.
    waiting: bool = False

    @classmethod
    def wait(cls, reason: str, record: dict[str, Any] | None = None) -> StepOutcome:
        return cls(False, dict(record or {}), reason=reason, waiting=True)


@dataclass(frozen=True, slots=True)
class Step:
    name: str
    to_state: IncidentState
    run: Callable[[StepContext], Awaitable[StepOutcome]]


@dataclass(frozen=True, slots=True)
class FlowEvent:
    incident_id: str
    step: str
    kind: str  # started, done, skipped, failed, waiting
    seconds: float = 0.0
    record: Mapping[str, Any] = field(default_factory=dict)
    reason: str = ""


# What an operator does when the flow stops short of CLOSED.
OPERATOR_ACTIONS: dict[IncidentState, str] = {
    IncidentState.ESCALATED: "review the incident record, then supply a patch or parameter remedy "
    "(`bulwark propose`) or close it",
    IncidentState.FAILED: "the protocol stays paused; investigate the failed step in the audit log, "
    "then re-run it (`bulwark incidents`) or close the incident",
}

_TERMINAL = {IncidentState.CLOSED, IncidentState.FAILED, IncidentState.ESCALATED}


class IncidentFlow:
    """Runs ``steps`` in order for one incident, recording and resuming as described above."""

    def __init__(
        self,
        store: Store,
        steps: Sequence[Step],
        on_event: Callable[[FlowEvent], None] | None = None,
        clock: Callable[[], float] = time.perf_counter,
    ) -> None:
        names = [s.name for s in steps]
        if len(set(names)) != len(names):
            raise ValueError(f"step names must be unique: {names}")
        self._store = store
        self._steps = tuple(steps)
        self._emit = on_event or (lambda _e: None)
        self._clock = clock

    def open(self, finding: Finding, incident_id: str | None = None) -> str:
        return self._store.open_incident(finding, incident_id).id

    def _artifact(self, incident_id: str, step: str) -> tuple[str, dict[str, Any]] | None:
        try:
            _kind, state, body = self._store.artifact(f"{incident_id}/{step}")
        except StoreError:
            return None
        return state, body

    def _record(self, incident_id: str, step: str) -> dict[str, Any] | None:
        found = self._artifact(incident_id, step)
        return found[1] if found is not None and found[0] == "done" else None

    def waiting(self, incident_id: str) -> tuple[str, str] | None:
        """(step, reason) when the incident waits on people (signatures, a timelock delay)."""
        if self._store.incident(incident_id).state in _TERMINAL:
            return None
        for step in self._steps:
            found = self._artifact(incident_id, step.name)
            if found is not None and found[0] == "waiting":
                return step.name, str(found[1].get("reason", ""))
        return None

    async def run(self, incident_id: str) -> IncidentState:
        """Run (or resume) the incident until CLOSED or a failure branch; return the final state."""
        incident = self._store.incident(incident_id)
        finding = self._store.findings(incident_id)
        finding_record = finding[0] if finding else {}
        records: dict[str, dict[str, Any]] = {}
        state = incident.state
        for step in self._steps:
            if state in _TERMINAL:
                break
            existing = self._record(incident_id, step.name)
            if existing is not None:
                records[step.name] = existing
                if _reached(state, step.to_state, self._steps):
                    self._emit(FlowEvent(incident_id, step.name, "skipped", record=existing))
                    continue
                # Crashed between storing the record and the transition: finish the transition.
                state = self._store.transition(
                    incident_id, step.to_state, f"{step.name} done (resumed)"
                ).state
                self._emit(FlowEvent(incident_id, step.name, "done", record=existing))
                continue
            if _reached(state, step.to_state, self._steps):
                continue
            before = self._artifact(incident_id, step.name)
            was_waiting = before[1].get("reason") if before is not None and before[0] == "waiting" else None
            if was_waiting is None:  # a waiting step is re-entered quietly: one start per step
                self._store.audit("step.started", {"step": step.name}, incident_id)
                self._emit(FlowEvent(incident_id, step.name, "started"))
            started = self._clock()
            try:
                outcome = await step.run(StepContext(incident_id, finding_record, dict(records), self._store))
            except BulwarkError as exc:
                outcome = StepOutcome(False, reason=exc.user_message)
            elapsed = self._clock() - started
            if outcome.waiting:
                if outcome.reason != was_waiting:  # audited when what it waits for changes
                    self._store.put_artifact(
                        f"{incident_id}/{step.name}",
                        "step",
                        {**outcome.record, "reason": outcome.reason},
                        incident_id=incident_id,
                        state="waiting",
                    )
                    self._store.audit(
                        "step.waiting", {"step": step.name, "reason": outcome.reason}, incident_id
                    )
                    self._emit(
                        FlowEvent(incident_id, step.name, "waiting", elapsed, outcome.record, outcome.reason)
                    )
                break
            if not outcome.ok:
                log.error("incident step failed", incident=incident_id, step=step.name, reason=outcome.reason)
                self._store.put_artifact(
                    f"{incident_id}/{step.name}",
                    "step",
                    {**outcome.record, "reason": outcome.reason, "seconds": elapsed},
                    incident_id=incident_id,
                    state="failed",
                )
                state = self._store.transition(
                    incident_id, outcome.failure_state, f"{step.name} failed: {outcome.reason}"
                ).state
                self._emit(
                    FlowEvent(incident_id, step.name, "failed", elapsed, outcome.record, outcome.reason)
                )
                break
            record = {**outcome.record, "seconds": round(elapsed, 6)}
            self._store.put_artifact(
                f"{incident_id}/{step.name}", "step", record, incident_id=incident_id, state="done"
            )
            records[step.name] = record
            if self._store.incident(incident_id).state is step.to_state:
                # The step committed its own transition (the responder does, once a pause lands).
                state = step.to_state
            else:
                state = self._store.transition(
                    incident_id, step.to_state, f"{step.name} done", {"seconds": elapsed}
                ).state
            self._emit(FlowEvent(incident_id, step.name, "done", elapsed, record))
        return state

    def records(self, incident_id: str) -> dict[str, dict[str, Any]]:
        out: dict[str, dict[str, Any]] = {}
        for step in self._steps:
            rec = self._record(incident_id, step.name)
            if rec is not None:
                out[step.name] = rec
        return out


_ORDER = [
    IncidentState.DETECTED,
    IncidentState.CONTAINED,
    IncidentState.PATCHED,
    IncidentState.VERIFIED,
    IncidentState.APPROVED,
    IncidentState.UPGRADED,
    IncidentState.RESUMED,
    IncidentState.CLOSED,
]


def _reached(current: IncidentState, target: IncidentState, _steps: Sequence[Step]) -> bool:
    """Has the incident already passed ``target`` on the happy path?"""
    if current not in _ORDER or target not in _ORDER:
        return False
    return _ORDER.index(current) >= _ORDER.index(target)
