"""``bulwark incidents`` is a group: listing as before (bare and ``list``), and ``resume ID``."""

import json
import subprocess
import sys
from pathlib import Path

from bulwark.domain import Action, Confidence, Finding, IncidentState, Severity, VulnClass
from bulwark.store import Store


def _run(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bulwark.cli.main", *args],
        capture_output=True,
        text=True,
        check=False,
        cwd=cwd,
    )


def _store(tmp_path: Path) -> tuple[str, str]:
    url = f"sqlite:///{tmp_path / 'b.db'}"
    store = Store(url)
    finding = Finding(
        "d", VulnClass.REENTRANCY, Severity.HIGH, Confidence.HIGH, "re-entered", "demo", None, None, True,
        action=Action.PAUSE,
    )  # fmt: skip
    iid = store.open_incident(finding).id
    store.close()
    return url, iid


def test_bare_and_list_print_the_same_listing(tmp_path: Path) -> None:
    url, iid = _store(tmp_path)
    bare = _run("incidents", "--db", url, "--json")
    listed = _run("incidents", "list", "--db", url, "--json")
    assert bare.returncode == listed.returncode == 0, bare.stderr + listed.stderr
    assert json.loads(bare.stdout) == json.loads(listed.stdout)
    assert [(i["id"], i["state"]) for i in json.loads(bare.stdout)] == [(iid, "detected")]
    text = _run("incidents", "--db", url)
    assert text.stdout.startswith(iid) and "detected" in text.stdout


def test_resume_of_an_unknown_incident_is_one_line(tmp_path: Path) -> None:
    url, _ = _store(tmp_path)
    proc = _run("incidents", "resume", "inc-nope", "--db", url)
    assert proc.returncode != 0
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "inc-nope" in lines[0] and "bulwark incidents" in lines[0]


def test_resume_of_a_watch_incident_asks_for_its_config(tmp_path: Path) -> None:
    url, iid = _store(tmp_path)  # no scenario run recorded it: it came from `bulwark watch`
    proc = _run("incidents", "resume", iid, "--db", url)
    assert proc.returncode != 0
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and iid in lines[0] and "-c" in lines[0], proc.stderr


def test_resume_of_a_closed_incident_does_nothing(tmp_path: Path) -> None:
    url, iid = _store(tmp_path)
    store = Store(url)
    store.transition(iid, IncidentState.CLOSED, "false positive")
    entries = len(store.audit_entries())
    store.close()
    proc = _run("incidents", "resume", iid, "--db", url)
    assert proc.returncode == 0 and "already closed" in proc.stdout, proc.stderr
    store = Store(url)
    assert len(store.audit_entries()) == entries
    store.close()


def test_resume_when_the_runs_chain_is_gone_is_one_line(tmp_path: Path) -> None:
    """A scenario's own anvil ends with its process: resume says so and asks for --rpc."""
    from datetime import UTC, datetime, timedelta

    from bulwark.app.runs import RUN_KIND

    url = f"sqlite:///{tmp_path / 'b.db'}"
    store = Store(url)
    started = (datetime.now(UTC) - timedelta(seconds=1)).isoformat()
    run = {"run_id": "r1", "started_at": started, "scenario": "spot-price-collateral",
           "rpc_url": "http://127.0.0.1:9", "incidents": [], "attack_txs": []}  # fmt: skip
    store.put_artifact("run:r1", RUN_KIND, run, state="running")
    finding = Finding(
        "d", VulnClass.REENTRANCY, Severity.HIGH, Confidence.HIGH, "re-entered", "demo", None, None, True
    )
    iid = store.open_incident(finding).id
    store.close()
    proc = _run("incidents", "resume", iid, "--db", url)
    assert proc.returncode != 0
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "does not answer" in lines[0] and "--rpc" in lines[0], proc.stderr
