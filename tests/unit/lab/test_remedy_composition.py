"""What lab.remedy wires, with fakes in place of the chain, the search and governance (the same
paths run for real in tests/e2e/remedy/)."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from bulwark.domain import Confidence, Finding, Severity, VulnClass
from bulwark.domain.govern import ExecutionResult, ProposalState
from bulwark.domain.remedy import ParamCall, ParameterRemedy, RemedyAttempt, RemedyKind, RemedyResult
from bulwark.flow import StepContext, StepOutcome
from bulwark.lab.remedy import CodeSteps, ParameterSteps, apply_parameter_remedy
from bulwark.lab.remedy import run as remedy_run
from bulwark.lab.remedy import steps as remedy_steps
from bulwark.lab.remedy.records import expected_reverts, patch_record, verify_record
from bulwark.store import Store

CALL = ParamCall("lending", "0x" + "11" * 20, "setLtv(uint256)", (0,), "0xabcdef01", (("ltv", "80", "0"),))
CHOSEN = ParameterRemedy((CALL,), "zero the LTV", "zero:ltv")
PASSED = RemedyResult(CHOSEN, (RemedyAttempt(CHOSEN, True),), True, (), "0x" + "ee" * 32, {"pass": True})
FAILED = RemedyResult(None, (RemedyAttempt(CHOSEN, False, ("attack still drains",)),), False, ("no",), None)


@pytest.fixture
def store(tmp_path: Path) -> Any:
    s = Store(f"sqlite:///{tmp_path / 'bulwark.db'}")
    yield s
    s.close()


def _ctx(store: Store, records: dict[str, dict[str, Any]] | None = None) -> StepContext:
    finding = Finding(
        detector="test",
        vuln_class=VulnClass.ORACLE_MANIPULATION,
        severity=Severity.CRITICAL,
        confidence=Confidence.HIGH,
        title="drain",
        protocol="demo",
        contract=None,
        tx_hash=None,
        pending=False,
    )
    return StepContext(store.open_incident(finding).id, {}, records or {}, store)


class FakeCode:
    """The code path's steps, recording which ran."""

    def __init__(self, close_record: dict[str, Any] | None = None) -> None:
        self.ran: list[str] = []
        self.close_record = close_record or {}

    def steps(self) -> CodeSteps:
        def step(name: str, ok: bool = True, record: dict[str, Any] | None = None) -> Any:
            async def run(_ctx: StepContext) -> StepOutcome:
                self.ran.append(name)
                return StepOutcome(ok, dict(record or {"step": name}))

            return run

        return CodeSteps(
            patch=step("patch"),
            verify=step("verify"),
            approve=step("approve"),
            upgrade=step("upgrade"),
            resume=step("resume"),
            close=step("close", ok=not self.close_record, record=self.close_record),
        )


def _steps(code: FakeCode, prefer: str = "smallest") -> ParameterSteps:
    return ParameterSteps(
        protocol=SimpleNamespace(),  # type: ignore[arg-type]
        scenario=SimpleNamespace(),  # type: ignore[arg-type]
        rpc_url="http://127.0.0.1:1",
        attack_txs=("0xaa",),
        client=None,
        compiler=None,  # type: ignore[arg-type]
        policy=None,  # type: ignore[arg-type]
        relayer=None,
        signer_keys=(),
        code=code.steps(),
        prefer=prefer,
    )


def test_the_step_list_keeps_the_code_paths_names_and_states() -> None:
    names = [(s.name, s.to_state.value) for s in _steps(FakeCode()).steps()]
    assert [n for n, _ in names] == ["patch", "verify", "approve", "upgrade", "resume", "close"]
    assert [s for _, s in names] == ["patched", "verified", "approved", "upgraded", "resumed", "closed"]


def test_prefer_code_never_searches(store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    async def boom(*_a: Any, **_k: Any) -> RemedyResult:
        raise AssertionError("searched although the policy prefers code")

    monkeypatch.setattr(remedy_steps, "parameter_remedy", boom)
    code = FakeCode()
    out = asyncio.run(_steps(code, prefer="code").patch(_ctx(store)))
    assert out.ok and code.ran == ["patch"]
    assert out.record == {"remedy": "code", "step": "patch"}


def test_no_passing_parameter_remedy_falls_back_to_code_and_keeps_the_search(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def search(*_a: Any, **_k: Any) -> RemedyResult:
        return FAILED

    monkeypatch.setattr(remedy_steps, "parameter_remedy", search)
    code = FakeCode()
    out = asyncio.run(_steps(code).patch(_ctx(store)))
    assert code.ran == ["patch"] and out.record["remedy"] == "code"
    assert out.record["parameter_search"]["attempts"][0]["reasons"] == ["attack still drains"]


def test_a_passing_parameter_remedy_is_recorded_with_its_evidence(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def search(*_a: Any, **_k: Any) -> RemedyResult:
        return PASSED

    monkeypatch.setattr(remedy_steps, "parameter_remedy", search)
    code = FakeCode()
    steps = _steps(code)
    out = asyncio.run(steps.patch(_ctx(store)))
    assert code.ran == [] and out.ok
    assert out.record == patch_record(PASSED)
    assert out.record["calls"] == [{"component": "lending", "call": "setLtv(0)", "data": "0xabcdef01"}]
    # the verify step reads the stored evidence back, in the code path's record shape
    verified = asyncio.run(steps.verify(_ctx(store, {"patch": out.record})))
    assert verified.ok and verified.record["evidence_hash"] == PASSED.evidence_hash
    assert verified.record["pass"] is True and code.ran == []


@pytest.mark.parametrize("step", ["verify", "approve", "upgrade", "resume"])
def test_under_a_code_patch_every_later_step_is_the_code_paths(store: Store, step: str) -> None:
    code = FakeCode()
    ctx = _ctx(store, {"patch": {"remedy": RemedyKind.CODE.value}, "verify": {}})
    out = asyncio.run(getattr(_steps(code), step)(ctx))
    assert out.ok and code.ran == [step]


def test_close_accepts_only_the_reverts_the_impact_report_announced(store: Store) -> None:
    patch = {"remedy": "parameters", "impact": {"blocked_functions": ["lending.borrow"]}}
    announced = FakeCode({"benign_after": {"reverted_by_action": {"borrow": 2}}})
    out = asyncio.run(_steps(announced).close(_ctx(store, {"patch": patch})))
    assert out.ok and out.record["expected_reverts"] == {"borrow": 2}
    other = FakeCode({"benign_after": {"reverted_by_action": {"borrow": 1, "swap": 1}}})
    assert not asyncio.run(_steps(other).close(_ctx(store, {"patch": patch}))).ok
    # under a code patch, the same reverts fail the incident
    code_patch = {"remedy": "code", "impact": patch["impact"]}
    assert not asyncio.run(_steps(announced).close(_ctx(store, {"patch": code_patch}))).ok


def test_expected_reverts_and_verify_record_are_pure() -> None:
    impact = {"impact": {"blocked_functions": ["lending.repay_all"], "benign_failed": 3}}
    assert expected_reverts(impact, {"benign_after": {"reverted_by_action": {"repayall": 1}}}) == {
        "repayall": 1
    }
    assert expected_reverts(impact, {"benign_after": {}}) is None
    doc = {
        "pass": True,
        "attack": {"blocked": True},
        "reasons": [{"message": "ok"}],
        "regression": {"differences": [{"tx_hash": "0x1"}, {"tx_hash": "0x1"}, {"tx_hash": "0x2"}]},
    }
    rec = verify_record({"evidence_hash": "0xee", **impact}, doc)
    assert rec["attack_blocked"] and rec["regressions"] == 2 and rec["benign_failed"] == 3
    assert rec["reasons"] == ["ok"]


class FakeGovernance:
    """propose → sign → execute, recorded; ``fail`` names proposals whose execution fails."""

    def __init__(self, fail: Sequence[str] = ()) -> None:
        self.log: list[tuple[str, ...]] = []
        self.fail = set(fail)

    def install(self, monkeypatch: pytest.MonkeyPatch) -> None:
        async def propose(*_a: Any, **k: Any) -> tuple[Any, ...]:
            self.log.append(("propose", k["severity"].name))
            return (
                SimpleNamespace(id="p1", component="lending"),
                SimpleNamespace(id="p2", component="lending"),
            )

        async def propose_resume(*_a: Any, after: str, component: str, **_k: Any) -> Any:
            self.log.append(("propose_resume", component, after))
            return SimpleNamespace(id=f"u-{component}", component=component)

        async def sign(_c: Any, _s: Any, pid: str, keys: Sequence[str]) -> None:
            self.log.append(("sign", pid, *keys))

        async def execute(_c: Any, _s: Any, pid: str, **k: Any) -> ExecutionResult:
            self.log.append(("execute", pid, str(len(k["smoke"]))))
            state = ProposalState.FAILED if pid in self.fail else ProposalState.EXECUTED
            return ExecutionResult(pid, state)

        monkeypatch.setattr(remedy_run, "propose_parameter_remedy", propose)
        monkeypatch.setattr(remedy_run, "propose_resume", propose_resume)
        monkeypatch.setattr(remedy_run, "approve_missing", sign)
        monkeypatch.setattr(remedy_run, "execute_proposal", execute)


def _apply(store: Store, paused: Sequence[str]) -> Any:
    return asyncio.run(
        apply_parameter_remedy(
            None,
            store,
            None,  # type: ignore[arg-type]
            PASSED,
            signer_keys=("k1", "k2"),
            relayer=None,
            paused=paused,
            severity=Severity.HIGH,
            smoke={"vault": [SimpleNamespace()]},  # type: ignore[list-item]
        )
    )


def test_apply_signs_and_executes_each_proposal_in_order_then_unpauses_after_the_last(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    gov = FakeGovernance()
    gov.install(monkeypatch)
    applied = _apply(store, ["lending", "vault"])
    assert applied.ok and applied.proposals == ("p1", "p2") and applied.resumed == ("u-lending", "u-vault")
    assert gov.log == [
        ("propose", "HIGH"),
        ("sign", "p1", "k1", "k2"),
        ("execute", "p1", "0"),
        ("sign", "p2", "k1", "k2"),
        ("execute", "p2", "0"),
        ("propose_resume", "lending", "p2"),
        ("sign", "u-lending", "k1", "k2"),
        ("execute", "u-lending", "0"),
        ("propose_resume", "vault", "p2"),
        ("sign", "u-vault", "k1", "k2"),
        ("execute", "u-vault", "1"),  # each component's own smoke checks
    ]


def test_apply_stops_at_the_first_failed_execution(store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    gov = FakeGovernance(fail=["p1"])
    gov.install(monkeypatch)
    applied = _apply(store, ["lending"])
    assert not applied.ok and applied.detail == "p1: post-checks failed" and applied.resumed == ()
    assert ("execute", "p2", "0") not in gov.log and not any(e[0] == "propose_resume" for e in gov.log)
    gov = FakeGovernance(fail=["u-vault"])
    gov.install(monkeypatch)
    applied = _apply(store, ["lending", "vault", "oracle"])
    assert not applied.ok and applied.resumed == ("u-lending",) and "vault" in applied.detail
    assert not any(e[:2] == ("propose_resume", "oracle") for e in gov.log)
