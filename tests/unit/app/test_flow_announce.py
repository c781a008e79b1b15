"""Incident steps announced on the notification channels: a real IncidentFlow on a real SQLite
store, a fake channel that records what it is sent (the webhook/Slack/email channels themselves
are tested against real receivers in tests/unit/notify)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from bulwark.app.notify import announced
from bulwark.domain import Action, Confidence, Finding, IncidentState, Severity, TxHash, VulnClass
from bulwark.flow import FlowEvent, IncidentFlow, Step, StepContext, StepOutcome
from bulwark.notify import Notification, Notifier, Route
from bulwark.store import Store

S = IncidentState
STEPS = [("contain", S.CONTAINED), ("patch", S.PATCHED), ("verify", S.VERIFIED)]


@dataclass
class Recording:
    name: str = "ops"
    sent: list[Notification] = field(default_factory=list)

    async def send(self, message: Notification) -> None:
        await asyncio.sleep(0)  # a real channel answers later: the flow must not end before it
        self.sent.append(message)


def _finding(severity: Severity) -> Finding:
    return Finding(
        "outflow",
        VulnClass.ORACLE_MANIPULATION,
        severity,
        Confidence.HIGH,
        "drain",
        "demo",
        None,
        TxHash("0x" + "ab" * 32),
        True,
        action=Action.PAUSE,
    )


def _steps(fail_at: str | None = None) -> list[Step]:
    def make(name: str) -> Callable[[StepContext], Awaitable[StepOutcome]]:
        async def run(ctx: StepContext) -> StepOutcome:
            if name == fail_at:
                return StepOutcome(False, reason="attack still succeeds")
            return StepOutcome(True, {"tx": f"0x{name}"})

        return run

    return [Step(name, to, make(name)) for name, to in STEPS]


@pytest.fixture
def store(tmp_path: Path) -> Store:
    return Store(f"sqlite:///{tmp_path / 'flow.db'}")


def _run(
    store: Store,
    notifier: Notifier | None,
    *,
    severity: Severity = Severity.CRITICAL,
    fail_at: str | None = None,
    shown: list[FlowEvent] | None = None,
) -> tuple[str, IncidentState]:
    iid = IncidentFlow(store, []).open(_finding(severity))

    async def go() -> IncidentState:
        events = announced(notifier, store, iid, shown.append if shown is not None else None)
        state = await IncidentFlow(store, _steps(fail_at), on_event=events).run(iid)
        if notifier is not None:
            await notifier.drain()
        return state

    return iid, asyncio.run(go())


def test_each_finished_step_is_announced_in_order(store: Store) -> None:
    channel = Recording()
    shown: list[FlowEvent] = []
    iid, state = _run(store, Notifier([Route(channel)]), shown=shown)
    assert state is S.VERIFIED
    assert [m.event for m in channel.sent] == [
        "incident.contain.done",
        "incident.patch.done",
        "incident.verify.done",
    ]
    assert {(m.incident_id, m.protocol, m.severity) for m in channel.sent} == {
        (iid, "demo", Severity.CRITICAL)
    }
    assert all(iid in m.title for m in channel.sent)
    # The caller's own on_event still sees every event, started ones included.
    assert [(e.step, e.kind) for e in shown][:2] == [("contain", "started"), ("contain", "done")]
    assert len(shown) == 2 * len(STEPS)


def test_a_failed_step_is_announced_with_its_reason(store: Store) -> None:
    channel = Recording()
    _, state = _run(store, Notifier([Route(channel)]), fail_at="patch")
    assert state is S.ESCALATED
    assert [m.event for m in channel.sent] == ["incident.contain.done", "incident.patch.failed"]
    assert "FAILED" in channel.sent[-1].title
    assert channel.sent[-1].text == "attack still succeeds"


def test_routes_filter_steps_by_the_incidents_own_severity(store: Store) -> None:
    loud, quiet = Recording("loud"), Recording("quiet")
    notifier = Notifier(
        [Route(loud, min_severity=Severity.HIGH), Route(quiet, min_severity=Severity.CRITICAL)]
    )
    _run(store, notifier, severity=Severity.HIGH)
    assert len(loud.sent) == len(STEPS)
    assert {m.severity for m in loud.sent} == {Severity.HIGH}
    assert quiet.sent == []  # a HIGH incident is not announced as CRITICAL


def test_without_channels_the_callers_on_event_is_kept(store: Store) -> None:
    shown: list[FlowEvent] = []
    _, state = _run(store, None, shown=shown)
    assert state is S.VERIFIED
    assert len(shown) == 2 * len(STEPS)
    iid = IncidentFlow(store, []).open(_finding(Severity.LOW))
    assert announced(None, store, iid) is None


def test_a_step_waiting_for_signers_is_announced_with_the_proposal_diff_and_evidence(store: Store) -> None:
    channel = Recording()
    iid = IncidentFlow(store, []).open(_finding(Severity.CRITICAL))
    record = {
        "proposal_id": "prop-1",
        "evidence_hash": "0x" + "ee" * 32,
        "diff": "-a\n+b",
        "verdict": "passed",
    }

    async def approve(ctx: StepContext) -> StepOutcome:
        return StepOutcome.wait("upgrade prop-1: 0 of 2 signatures", record)

    async def go() -> IncidentState:
        notifier = Notifier([Route(channel)])
        events = announced(notifier, store, iid)
        state = await IncidentFlow(store, [Step("approve", S.APPROVED, approve)], on_event=events).run(iid)
        await notifier.drain()
        return state

    assert asyncio.run(go()) is S.DETECTED
    (msg,) = channel.sent
    assert msg.event == "incident.approve.waiting" and "signers" in msg.title
    assert all(part in msg.text for part in ("0 of 2 signatures", "prop-1", "ee" * 32, "+b", "passed"))
