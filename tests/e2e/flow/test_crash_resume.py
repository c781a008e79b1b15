"""Kill Bulwark (SIGKILL) at each state of an incident, restart it: the incident completes and no
transaction is sent twice. The chain (anvil) belongs to the test, so it outlives each Bulwark."""

from __future__ import annotations

import asyncio
import pickle
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from bulwark.app.contain import run_contain_async
from bulwark.chain import ChainClient
from bulwark.domain import IncidentState
from bulwark.scenarios.corpus import load_corpus
from bulwark.scenarios.runner import RunOptions
from bulwark.store import Store
from bulwark.toolchain.anvil import Anvil, AnvilOptions
from bulwark.toolchain.solc import Compiler

pytestmark = pytest.mark.e2e

SCENARIO = "spot-price-collateral"
STEPS = ["patch", "verify", "approve", "upgrade", "resume"]


@dataclass
class Contained:
    node: Anvil
    db: Path
    handles: Path
    incident_id: str
    relayer: str
    snapshot: str


def _run(coro: Any) -> Any:
    return asyncio.run(coro)


@pytest.fixture(scope="module")
def contained(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Contained]:
    """One attack contained by the real detection + respond path; the flow has not started."""
    base = tmp_path_factory.mktemp("crash")
    scenario = load_corpus().get(SCENARIO)
    db = base / "contained.db"
    store = Store(f"sqlite:///{db}")
    captured: dict[str, Any] = {}

    async def then(sctx: Any, hashes: list[Any], _out: dict[str, Any]) -> dict[str, Any]:
        captured.update(protocol=sctx.protocol, hashes=hashes)
        return {}

    with Anvil(AnvilOptions()) as node, Compiler() as compiler:

        async def go() -> str:
            async with ChainClient(node.http_url) as client:
                await run_contain_async(
                    scenario, RunOptions(benign_txs=10), node, client, compiler, store=store, then=then
                )
                return await client.snapshot()

        snapshot = _run(go())
        incidents = [i for i in store.incidents() if i.state is IncidentState.CONTAINED]
        assert incidents, "containment opened no incident"
        incident_id = incidents[0].id
        for other in incidents[1:]:
            store.transition(other.id, IncidentState.CLOSED, "duplicate")
        store.close()
        handles = base / "handles.pickle"
        protocol = captured["protocol"]
        handles.write_bytes(pickle.dumps((scenario, protocol, captured["hashes"], incident_id)))
        yield Contained(node, db, handles, incident_id, protocol.deployer.address, snapshot)


def _fresh(contained: Contained, tmp: Path) -> str:
    """Chain and database back to just after containment."""

    async def rewind() -> None:
        async with ChainClient(contained.node.http_url) as client:
            await client.revert(contained.snapshot)
            contained.snapshot = await client.snapshot()

    _run(rewind())
    db = tmp / "bulwark.db"
    shutil.copyfile(contained.db, db)
    return f"sqlite:///{db}"


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
