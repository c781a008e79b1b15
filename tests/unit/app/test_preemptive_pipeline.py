"""A pre-emptive incident (intel matched our own code) on the one incident pipeline: the watch's
driver carries it without containment, and only such an incident is verified without an attack
(the real path runs in tests/e2e/intel/)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import Any, cast

import pytest

from bulwark.app.driver import IncidentDriver
from bulwark.app.pipeline import PREEMPTIVE, PipelineOptions, ProtocolPipeline, is_preemptive
from bulwark.chain import Signer
from bulwark.config import BulwarkConfig, load_config
from bulwark.domain import Address, Confidence, Finding, IncidentState, Severity, VulnClass
from bulwark.flow import IncidentFlow, StepContext
from bulwark.store import Store

ORACLE = "0xe7f1725E7734CE288F8367e1Bb143E90bb3F0512"
OWNER = "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266"
CONFIG = f"""
version: 1
networks:
  local: {{rpc_http: "http://127.0.0.1:1"}}
protocols:
  demo:
    network: local
    source: project
    contracts:
      oracle: {{address: "{ORACLE}", implementation: {{file: src/Oracle.sol, contract: Oracle}}}}
policies:
  demo:
    safe: "0x9fE46736679d2D9a65F0992F2272dE9f3c7fa6e0"
    timelock: "0xCf7Ed3AccA5a467e9e704C703E8D87F634fB0Fc9"
    guardian: "0xDc64a140Aa3E981100a9becA4E685f962f0cF6C9"
    owners: ["{OWNER}"]
    threshold: 1
    proxies: [oracle]
    actions:
      upgrade: {{default: {{threshold: 1, delay_s: 60}}}}
      unpause: {{default: {{threshold: 1, delay_s: 60}}}}
"""


@pytest.fixture
def config(tmp_path: Path) -> BulwarkConfig:
    (tmp_path / "project" / "src").mkdir(parents=True)
    (tmp_path / "project" / "src" / "Oracle.sol").write_text("contract Oracle {}\n")
    path = tmp_path / "bulwark.yaml"
    path.write_text(CONFIG)
    return load_config(path)


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    s = Store(f"sqlite:///{tmp_path / 's.db'}")
    yield s
    s.close()


def _finding(*, preemptive: bool) -> Finding:
    return Finding(
        detector="intel-vulnerable-code" if preemptive else "invariant-break",
        vuln_class=VulnClass.ACCESS_CONTROL,
        severity=Severity.HIGH,
        confidence=Confidence.HIGH,
        title="Oracle.setPrice has the shape of code exploited elsewhere",
        protocol="demo",
        contract=Address(ORACLE),
        tx_hash=None,
        pending=False,
        evidence={PREEMPTIVE: True, "function": "setPrice"} if preemptive else {"outflow": 1},
    )


def _driver(config: BulwarkConfig, store: Store, tmp_path: Path) -> IncidentDriver:
    return IncidentDriver(
        config, store, "local", cast(Any, None), Signer("0x" + "11" * 32), None,
        workdir=tmp_path / "w", rpc_url="http://127.0.0.1:1",
    )  # fmt: skip


def _steps(flow: IncidentFlow) -> list[str]:
    return [s.name for s in flow._steps]


def test_the_driver_carries_a_preemptive_incident_without_a_contain_step(
    config: BulwarkConfig, store: Store, tmp_path: Path
) -> None:
    driver = _driver(config, store, tmp_path)
    assert driver.unsupported == {}
    alert = store.open_incident(_finding(preemptive=False)).id
    pre = store.open_incident(_finding(preemptive=True)).id
    # A finding alone is an alert (nothing was contained); a pre-emptive one is carried at once.
    assert driver.open_incidents() == [pre]
    assert is_preemptive(store.findings(pre)[0]) and not is_preemptive(store.findings(alert)[0])
    # Only the scan of our own code may say so: another detector's evidence cannot skip the attack.
    forged = {**store.findings(alert)[0], "evidence": {PREEMPTIVE: True}}
    assert not is_preemptive(forged)
    assert _steps(driver.flow(pre)) == ["patch", "verify", "approve", "upgrade", "resume", "close"]
    assert _steps(driver.flow(alert))[0] == "contain"


@pytest.mark.parametrize("preemptive", [False, True])
def test_verify_without_an_attack_fails_closed_unless_the_incident_is_preemptive(
    config: BulwarkConfig, store: Store, tmp_path: Path, preemptive: bool
) -> None:
    pipe = ProtocolPipeline(
        config, "demo", cast(Any, None), Signer("0x" + "11" * 32), PipelineOptions(workdir=tmp_path),
        rpc_url="http://127.0.0.1:1",
    )  # fmt: skip
    finding = _finding(preemptive=preemptive)
    iid = store.open_incident(finding).id
    patch = {"component": "oracle", "attack_txs": [], "candidates": []}  # no candidate: nothing to run
    ctx = StepContext(iid, store.findings(iid)[0], {"patch": patch}, store)
    outcome = asyncio.run(pipe.verify(ctx))
    assert not outcome.ok and not outcome.waiting
    if preemptive:  # went on to verify (here: no candidate to try), not refused for the missing attack
        assert outcome.reason.startswith("no candidate passed verification"), outcome.reason
    else:
        assert "no attack transaction was captured" in outcome.reason, outcome.reason


def test_a_preemptive_incident_with_nothing_to_propose_escalates_and_is_not_carried_again(
    config: BulwarkConfig, store: Store, tmp_path: Path
) -> None:
    driver = _driver(config, store, tmp_path)
    iid = store.open_incident(_finding(preemptive=True)).id
    # The configured source cannot be checked against the deployed code: no candidate to verify.
    assert asyncio.run(driver.tick()) == {iid: IncidentState.ESCALATED}
    assert [e.payload["step"] for e in store.audit_entries(iid) if e.kind == "step.started"] == ["patch"]
    assert driver.open_incidents() == []
