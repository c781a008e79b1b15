"""``bulwark watch --role`` runs one scale-out role; ``bulwark status`` reads a cluster. Both fail
closed in one line before anything is started or when a server cannot be reached."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import structlog

from bulwark.app.status import ClusterStatus, LeaseView, RoleView
from bulwark.cli.main import main
from bulwark.cli.roles import Role
from bulwark.cli.status import table

EXAMPLE = Path(__file__).resolve().parents[3] / "bulwark.example.yaml"
NEEDS_CLUSTER = (
    "error: this role needs a `cluster` section (nats_url, database_url) in the configuration; "
    "without one, run `bulwark watch`"
)


@pytest.fixture(autouse=True)
def _reset_logging() -> Iterator[None]:
    yield
    structlog.reset_defaults()


def _run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as info:
        main(list(args))
    out = capsys.readouterr()
    return int(info.value.code or 0), out.out, out.err


def _closed_cluster(tmp_path: Path) -> Path:
    path = tmp_path / "bulwark.yaml"
    # Closed ports: nothing answers there.
    path.write_text(
        EXAMPLE.read_text() + "\ncluster:\n  nats_url: nats://127.0.0.1:9\n"
        "  database_url: postgresql://u@127.0.0.1:9/db\n  connect_timeout_s: 1\n"
    )
    return path


@pytest.mark.parametrize("role", ["ingest", "screen", "respond", "incident"])
def test_watch_role_runs_the_role(role: str, capsys: pytest.CaptureFixture[str]) -> None:
    # Without --role, watch would start watching the example's chain; with it, the role asks for
    # its cluster section first.
    rc, _, err = _run(capsys, "watch", "-c", str(EXAMPLE), "--role", role)
    assert (rc, err.strip().splitlines()) == (2, [NEEDS_CLUSTER])


def test_watch_role_dispatches_with_watch_options(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    calls: list[tuple[Role, dict[str, Any]]] = []
    monkeypatch.setattr("bulwark.cli.watch.run_role", lambda cfg, role, **kw: calls.append((role, kw)))
    monkeypatch.setattr("bulwark.cli.watch._watch", lambda *a, **k: pytest.fail("the embedded watch ran"))
    rc, _, _ = _run(capsys, "watch", "-c", str(EXAMPLE), "--role", "incident", "--json",
                    "--state-dir", str(tmp_path), "--until-block", "7")  # fmt: skip
    assert rc == 0
    assert calls == [
        (Role.incident, {"as_json": True, "dry_run": False, "until_block": 7, "state_dir": tmp_path})
    ]


def test_watch_role_refuses_an_unknown_role(capsys: pytest.CaptureFixture[str]) -> None:
    rc, _, err = _run(capsys, "watch", "-c", str(EXAMPLE), "--role", "judge")
    assert rc == 2 and "judge" in err


def test_status_needs_a_cluster_section(capsys: pytest.CaptureFixture[str]) -> None:
    rc, _, err = _run(capsys, "status", "-c", str(EXAMPLE))
    assert rc == 2
    assert err.strip().splitlines() == [
        "error: `bulwark status` reads a scaled-out Bulwark: add a `cluster` section (nats_url, "
        "database_url) to the configuration"
    ]


def test_status_says_in_one_line_that_nats_is_unreachable(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rc, out, err = _run(capsys, "status", "-c", str(_closed_cluster(tmp_path)))
    assert rc != 0 and out == ""
    lines = err.strip().splitlines()
    assert len(lines) == 1 and "did not answer" in lines[0] and "cluster.nats_url" in lines[0]


def test_status_table_names_processes_lag_and_lease_holders() -> None:
    status = ClusterStatus(
        roles=(
            RoleView("respond", "h1", 41, "demo", "active", 0.0, 0.4, False, 0, {"acted": 2}),
            RoleView("screen", "h2", 42, "mainnet", "active", 0.0, 9.0, True, 17, {"screened": 5}),
        ),
        leases=(
            LeaseView("respond:demo", "h1:41:abcd", "2026-01-01T10:00:00+00:00", "respond"),
            LeaseView("ingest:mainnet", None, None, None),
        ),
    )
    lines = table(status)
    assert lines[1].split() == ["respond", "demo", "h1", "41", "active", "0s", "0", "acted=2"]
    assert lines[2].split() == ["screen", "mainnet", "h2", "42", "active", "9s", "STALE", "17", "screened=5"]
    assert lines[5].split() == ["respond:demo", "h1:41:abcd", "respond", "10:00:00", "UTC"]
    assert lines[6].split() == ["ingest:mainnet", "-", "-", "-"]


def test_watch_role_refuses_the_embedded_database_option(capsys: pytest.CaptureFixture[str]) -> None:
    # Silently ignoring --db would leave the operator believing the role writes there.
    rc, _, err = _run(capsys, "watch", "-c", str(EXAMPLE), "--role", "screen", "--db", "sqlite:///x.db")
    assert (rc, err.strip().splitlines()) == (
        2,
        ["error: --db is the embedded watch's; a role uses the cluster's database_url"],
    )
