"""Kill Bulwark (SIGKILL) at each state of an incident, restart it: the incident completes and no
transaction is sent twice. The chain (anvil) belongs to the test, so it outlives each Bulwark."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from tests.e2e.flow.conftest import Contained, _fresh, _run

from bulwark.chain import ChainClient
from bulwark.domain import IncidentState
from bulwark.store import Store

pytestmark = pytest.mark.e2e

STEPS = ["patch", "verify", "approve", "upgrade", "resume"]


def _worker(
    contained: Contained, db_url: str, tmp: Path, crash_after: str | None = None
) -> subprocess.CompletedProcess[str]:
    args = [
        sys.executable,
        "-m",
        "tests.support.full_worker",
        str(contained.handles),
        db_url,
        contained.node.http_url,
        str(tmp / "work"),
    ]
    return subprocess.run(
        args + ([crash_after] if crash_after else []),
        capture_output=True,
        text=True,
        timeout=400,
        check=False,
    )


def _nonce(contained: Contained) -> int:
    async def go() -> int:
        async with ChainClient(contained.node.http_url) as client:
            return await client.get_nonce(contained.relayer)

    return int(_run(go()))


@pytest.fixture(scope="module")
def baseline(contained: Contained, tmp_path_factory: pytest.TempPathFactory) -> int:
    """Transactions the relayer sends for an uninterrupted incident."""
    tmp = tmp_path_factory.mktemp("baseline")
    db_url = _fresh(contained, tmp)
    before = _nonce(contained)
    proc = _worker(contained, db_url, tmp)
    assert "final closed" in proc.stdout, proc.stdout + proc.stderr
    return _nonce(contained) - before


@pytest.mark.parametrize("crash_after", STEPS)
def test_killed_after_each_state_resumes_without_duplicates(
    contained: Contained, baseline: int, crash_after: str, tmp_path: Path
) -> None:
    db_url = _fresh(contained, tmp_path)
    before = _nonce(contained)
    crashed = _worker(contained, db_url, tmp_path, crash_after)
    assert crashed.returncode == -9, crashed.stdout + crashed.stderr  # it really died by SIGKILL
    assert f"{crash_after} done" in crashed.stdout and "final" not in crashed.stdout

    resumed = _worker(contained, db_url, tmp_path)
    assert "final closed" in resumed.stdout, resumed.stdout + resumed.stderr
    # Steps done before the crash are not run again on restart...
    for step in STEPS[: STEPS.index(crash_after) + 1]:
        assert f"{step} started" not in resumed.stdout
    # ...and nothing was sent twice: the relayer sent exactly what an uninterrupted run sends.
    assert _nonce(contained) - before == baseline
    store = Store(db_url)
    try:
        assert store.incident(contained.incident_id).state is IncidentState.CLOSED
        assert store.verify_audit().ok
    finally:
        store.close()
