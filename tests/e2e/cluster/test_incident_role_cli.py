"""``bulwark watch --role incident`` from a configuration file: the real IncidentDriver is built (it
says which protocols it can only contain), the process beats into the cluster so that
``bulwark status`` shows it, and a clean stop removes it at once. Real nats-server and PostgreSQL;
no chain is needed until an incident arrives."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from tests.support.nats_server import nats_server
from tests.support.postgres import postgres_server

pytestmark = pytest.mark.e2e
ROOT = Path(__file__).resolve().parents[3]
ENV = {**os.environ, "BULWARK_TEST_SENTINEL_KEY": "0x" + "5e" * 32}  # a throwaway key

CONFIG = """
networks:
  local: {{rpc_http: "http://127.0.0.1:9", mempool: "off"}}
protocols:
  demo:
    network: local
    contracts: {{vault: {{address: "0x{vault}"}}}}
monitors:
  m:
    protocol: demo
    rules:
      - {{name: big-value, when: tx, expr: "tx.value >= 5", severity: critical}}
responses:
  sentinel_key: env:BULWARK_TEST_SENTINEL_KEY
  guardians: {{demo: "0x{guardian}"}}
cluster:
  nats_url: {nats}
  database_url: {db}
"""


def _wait(cond: Callable[[], bool], what: str, timeout_s: float = 60.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not cond():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.1)


def _incident_roles(config: Path) -> list[dict[str, Any]]:
    cmd = [sys.executable, "-m", "bulwark.cli.main", "status", "-c", str(config), "--json"]
    out = subprocess.run(cmd, cwd=ROOT, env=ENV, capture_output=True, text=True, timeout=60, check=False)
    assert out.returncode == 0, out.stderr
    return [r for r in json.loads(out.stdout)["roles"] if r["role"] == "incident"]


def test_watch_role_incident_runs_the_driver_and_shows_in_status(tmp_path: Path) -> None:
    with nats_server() as broker, postgres_server() as db:
        config = tmp_path / "bulwark.yaml"
        config.write_text(CONFIG.format(vault="11" * 20, guardian="22" * 20, nats=broker.url, db=db))
        err_path = tmp_path / "incident.err"
        with err_path.open("w") as err:
            cmd = [sys.executable, "-m", "bulwark.cli.main", "watch", "-c", str(config), "--role", "incident",
                   "--state-dir", str(tmp_path / "state")]  # fmt: skip
            proc = subprocess.Popen(cmd, cwd=ROOT, env=ENV, stdout=subprocess.DEVNULL, stderr=err)
        try:

            def listed() -> bool:
                assert proc.poll() is None, err_path.read_text()
                return any(r["pid"] == proc.pid for r in _incident_roles(config))

            _wait(listed, "the incident role to show in bulwark status")
            (row,) = [r for r in _incident_roles(config) if r["pid"] == proc.pid]
            assert (row["scope"], row["state"], row["lag"]) == ("local", "standby", None)
            assert row["progress"] == {"owned": [], "open": 0}
            # The real driver was built: it says what the configuration lacks to patch and govern.
            assert "containment only" in err_path.read_text()
        finally:
            proc.send_signal(signal.SIGTERM)
            proc.wait(timeout=30)
        _wait(lambda: not _incident_roles(config), "a cleanly stopped role to leave bulwark status")

        # The broker answers, the database does not: one line that says so.
        closed_db = tmp_path / "closed-db.yaml"
        closed_db.write_text(config.read_text().replace(db, "postgresql://u@127.0.0.1:9/db"))
        cmd = [sys.executable, "-m", "bulwark.cli.main", "status", "-c", str(closed_db)]
        out = subprocess.run(cmd, cwd=ROOT, env=ENV, capture_output=True, text=True, timeout=60, check=False)
        lines = out.stderr.strip().splitlines()
        assert out.returncode != 0 and out.stdout == ""
        assert len(lines) == 1 and "unreachable" in lines[0] and "database_url" in lines[0], lines
