"""The incident role: each incident has one owner at a time (a PostgreSQL lease); when the owner is
killed (SIGKILL) mid-incident, the standby carries the incident on from its last recorded step, and
no step is done twice. ``bulwark status`` shows both processes, the lease's holder and a consumer's
lag on the way. Real nats-server and real PostgreSQL; the flow's steps are stand-ins that move the
incident along (tests.support.nats_incident)."""

from __future__ import annotations

import asyncio
import json
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from tests.support.nats_server import nats_server
from tests.support.nats_worker import make_tx
from tests.support.postgres import postgres_server

from bulwark.app.status import Heartbeat, role_consumer
from bulwark.chain.bus import Bus, TxEnvelope
from bulwark.domain import Address, Confidence, Finding, IncidentState, Severity, VulnClass
from bulwark.store import Store

pytestmark = pytest.mark.e2e
ROOT = Path(__file__).resolve().parents[3]
EXAMPLE = ROOT / "bulwark.example.yaml"


def _wait(cond: Callable[[], bool], what: str, timeout_s: float = 60.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not cond():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


def _lines(log: Path, kind: str) -> list[str]:
    if not log.exists():
        return []
    return [" ".join(line.split()[1:]) for line in log.read_text().splitlines() if line.split()[0] == kind]


def _status(config: Path) -> dict[str, Any]:
    cmd = [sys.executable, "-m", "bulwark.cli.main", "status", "-c", str(config), "--json"]
    out = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=60, check=False)
    assert out.returncode == 0, out.stderr
    return dict(json.loads(out.stdout))


async def _queue_for_screening(url: str, n: int) -> None:
    """``n`` transactions on network ``local`` and a screen worker's heartbeat, no worker judging."""
    async with Bus(url) as bus:
        await bus.screen_subscription("local")  # the network's consumer, as a worker creates it
        for i in range(n):
            await bus.publish_tx(TxEnvelope("local", make_tx(i), time.time()))
        await Heartbeat(bus, "screen", "local", role_consumer("screen", "local"), state="active").beat()


def test_standby_carries_the_incident_on_when_its_owner_is_killed(tmp_path: Path) -> None:
    with nats_server() as broker, postgres_server() as db:
        store = Store(db)
        finding = Finding("stub-attack", VulnClass.ACCESS_CONTROL, Severity.CRITICAL, Confidence.HIGH,
                          "stand-in", "demo", Address("0x" + "12" * 20), "0x" + "ab" * 32, True)  # fmt: skip
        iid = store.open_incident(finding).id
        config = tmp_path / "bulwark.yaml"
        config.write_text(
            EXAMPLE.read_text() + f"\ncluster:\n  nats_url: {broker.url}\n  database_url: {db}\n"
        )
        gates = tmp_path / "gates"
        gates.mkdir()
        for state in ("contained", "patched"):  # the owner gets this far, then waits on the signers
            (gates / state).touch()
        logs = {name: tmp_path / f"{name}.log" for name in ("a", "b")}
        procs: dict[str, subprocess.Popen[bytes]] = {}
        try:
            for name in ("a", "b"):
                cmd = [sys.executable, "-m", "tests.support.nats_incident", broker.url, db, str(logs[name]),
                       str(gates), "5"]  # fmt: skip
                with (tmp_path / f"{name}.err").open("ab") as err:
                    procs[name] = subprocess.Popen(cmd, cwd=ROOT, stderr=err)
                _wait(lambda n=name: bool(_lines(logs[n], "ready")), f"incident process {name} to start")
                if name == "a":
                    _wait(lambda: f"{iid} patched" in _lines(logs["a"], "step"), "the owner's first steps")
            pid_a, pid_b = procs["a"].pid, procs["b"].pid
            asyncio.run(_queue_for_screening(broker.url, 3))

            def both_seen() -> bool:
                st = _status(config)
                states = {r["pid"]: r["state"] for r in st["roles"] if r["role"] == "incident"}
                return states.get(pid_a) == "active" and states.get(pid_b) == "standby"

            _wait(both_seen, "bulwark status to show the owner active and the standby")
            st = _status(config)
            lease = {x["name"]: x for x in st["leases"]}[f"incident:{iid}"]
            assert lease["holder"].split(":")[1] == str(pid_a) and lease["role"] == "incident"
            assert {x["name"] for x in st["leases"]} >= {"watch", "ingest:local", "respond:demo"}
            screen = [r for r in st["roles"] if r["role"] == "screen"]
            assert [(r["scope"], r["lag"]) for r in screen] == [("local", 3)]  # published, not judged
            owner = next(r for r in st["roles"] if r["pid"] == pid_a)
            assert owner["progress"]["owned"] == [iid] and not owner["stale"]
            assert not _lines(logs["b"], "owned")  # the standby only stands by

            procs["a"].kill()  # SIGKILL: no lease release
            procs["a"].wait(timeout=10)
            for state in ("verified", "approved", "upgraded", "resumed", "closed"):
                (gates / state).touch()
            _wait(lambda: f"{iid} closed" in _lines(logs["b"], "step"), "the standby to close the incident")
            steps_a = [s.split()[1] for s in _lines(logs["a"], "step")]
            steps_b = [s.split()[1] for s in _lines(logs["b"], "step")]
            assert steps_a == ["contained", "patched"]
            assert steps_b == ["verified", "approved", "upgraded", "resumed", "closed"]  # each step once
            assert _lines(logs["b"], "owned") == [iid]
            assert store.incident(iid).state is IncidentState.CLOSED
        finally:
            for p in procs.values():
                if p.poll() is None:
                    p.send_signal(signal.SIGTERM)
                    try:
                        p.wait(timeout=20)
                    except subprocess.TimeoutExpired:
                        p.kill()
                        p.wait(timeout=10)
            store.close()
