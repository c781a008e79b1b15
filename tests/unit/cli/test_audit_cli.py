import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from sqlalchemy import create_engine, text

from bulwark.domain import Confidence, Finding, IncidentState, Severity, VulnClass
from bulwark.store import Store


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    # Away from the checkout: a demo run there leaves its audit key in ./.bulwark, which
    # `audit verify` would then use; and no audit key from the environment either.
    env = {k: v for k, v in os.environ.items() if k != "BULWARK_AUDIT_KEY"}
    return subprocess.run(
        [sys.executable, "-m", "bulwark.cli.main", *args],
        capture_output=True,
        text=True,
        check=False,
        cwd=tempfile.gettempdir(),
        env=env,
    )


def test_audit_verify_passes_then_names_the_altered_entry(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'b.db'}"
    store = Store(url)
    inc = store.open_incident(
        Finding(
            "d", VulnClass.REENTRANCY, Severity.HIGH, Confidence.HIGH, "re-entered", "demo", None, None, True
        )
    )
    store.transition(inc.id, IncidentState.CONTAINED, "paused")
    store.close()

    ok = _run("audit", "verify", "--db", url, "--json")
    assert ok.returncode == 0, ok.stderr
    assert json.loads(ok.stdout) == {
        "ok": True,
        "entries": 2,
        "first_broken": None,
        "reason": "",
        "mode": "hash-chained only (not keyed: no audit key given)",  # it says what it checked
        "unchecked_macs": 0,
        "anchors": 0,
        "rows": 1,
        "key": None,
    }

    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text("UPDATE audit_log SET kind = 'incident.forged' WHERE seq = 1"))
    engine.dispose()
    broken = _run("audit", "verify", "--db", url)
    assert broken.returncode == 1
    assert "entry 1" in broken.stdout

    listed = _run("incidents", "--db", url, "--json")
    assert [i["state"] for i in json.loads(listed.stdout)] == ["contained"]


def test_unreachable_database_is_one_line(tmp_path: Path) -> None:
    proc = _run("audit", "verify", "--db", "postgresql+psycopg://u:pw@127.0.0.1:1/x")
    assert proc.returncode == 1
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: database") and "pw" not in lines[0]
