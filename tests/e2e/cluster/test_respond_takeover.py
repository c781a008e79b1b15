"""The respond role: one active responder per protocol under a PostgreSQL lease; when it is killed
(SIGKILL), the standby takes the lease and acts on the findings that follow. Real nats-server and
real PostgreSQL; the containment itself is a stand-in that logs (tests.support.nats_responder)."""

from __future__ import annotations

import asyncio
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from tests.support.nats_server import nats_server
from tests.support.nats_worker import make_tx
from tests.support.postgres import postgres_server

from bulwark.app.roles import LEASE_TTL_S, STANDBY_POLL_S, finding_from_json
from bulwark.chain.bus import Bus, TxEnvelope, encode_tx
from bulwark.detect.report import finding_json
from bulwark.domain import Confidence, Finding, Severity, VulnClass

pytestmark = pytest.mark.e2e
ROOT = Path(__file__).resolve().parents[3]


def _wait(cond: Callable[[], bool], what: str, timeout_s: float = 30.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not cond():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.02)


def _lines(log: Path, kind: str) -> list[str]:
    if not log.exists():
        return []
    return [line.split()[1] for line in log.read_text().splitlines() if line.startswith(kind + " ")]


def _finding(i: int) -> tuple[Finding, TxEnvelope]:
    tx = make_tx(i, attack=True)
    f = Finding("stub-attack", VulnClass.ACCESS_CONTROL, Severity.CRITICAL, Confidence.HIGH, "stand-in",
                "demo", tx.to, tx.hash, True)  # fmt: skip
    return f, TxEnvelope("testnet", tx, time.time())


async def _publish_finding(url: str, i: int) -> None:
    f, env = _finding(i)
    payload = {"network": "testnet", "finding": finding_json(f), "seen_at": env.seen_at,
               "judged_at": time.time(), "envelope": encode_tx(env).decode()}  # fmt: skip
    async with Bus(url) as bus:
        await bus.publish_finding("testnet", f"{env.msg_id}:{f.detector}", payload)


def test_finding_survives_the_bus_codec() -> None:
    f, _ = _finding(3)
    assert finding_from_json(finding_json(f)) == f


def test_takeover_is_designed_to_fit_two_seconds() -> None:
    # The standby waits at most the lease's lifetime after the last renewal, plus one poll.
    assert LEASE_TTL_S + STANDBY_POLL_S < 2.0


def test_standby_takes_over_when_the_active_responder_is_killed(tmp_path: Path) -> None:
    with nats_server() as broker, postgres_server() as db:
        logs = {name: tmp_path / f"{name}.log" for name in ("a", "b")}
        procs: dict[str, subprocess.Popen[bytes]] = {}
        try:
            for name in ("a", "b"):
                log = logs[name]
                # A longer lease than production's 1.5 s: a loaded CI machine must not make the
                # standby take over from a live responder that was slow to renew.
                cmd = [sys.executable, "-m", "tests.support.nats_responder", broker.url, db, str(log), "4"]
                with (tmp_path / f"{name}.err").open("ab") as err:
                    procs[name] = subprocess.Popen(cmd, cwd=ROOT, stderr=err)
                _wait(lambda log=log: log.exists() and "ready" in log.read_text(), "the responder to start")
                if name == "a":
                    _wait(lambda: bool(_lines(logs["a"], "active")), "the first responder to take the lease")
            first, second = make_tx(1).hash, make_tx(2).hash
            asyncio.run(_publish_finding(broker.url, 1))
            _wait(lambda: first in _lines(logs["a"], "acted"), "the active responder to act")
            assert not _lines(logs["b"], "active")  # the standby only stands by
            assert first not in _lines(logs["b"], "acted")

            procs["a"].kill()  # SIGKILL: no lease release; the standby must wait for it to expire
            procs["a"].wait(timeout=10)
            killed_at = time.time()
            asyncio.run(_publish_finding(broker.url, 2))
            _wait(lambda: second in _lines(logs["b"], "acted"), "the standby to take over and act")
            took_over = float(_lines(logs["b"], "active")[0])
            print(f"takeover {took_over - killed_at:.2f}s after the kill")
            assert second not in _lines(logs["a"], "acted")
        finally:
            for p in procs.values():
                if p.poll() is None:
                    p.send_signal(signal.SIGTERM)
                    try:
                        p.wait(timeout=20)
                    except subprocess.TimeoutExpired:
                        p.kill()
                        p.wait(timeout=10)
