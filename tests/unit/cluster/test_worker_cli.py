"""``bulwark worker``: fails closed, in one line, before connecting anywhere."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import structlog

from bulwark.cli.main import main

EXAMPLE = Path(__file__).resolve().parents[3] / "bulwark.example.yaml"


@pytest.fixture(autouse=True)
def _reset_logging() -> Iterator[None]:
    yield
    structlog.reset_defaults()


def _run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    with pytest.raises(SystemExit) as info:
        main(["worker", *args])
    return int(info.value.code or 0), capsys.readouterr().err


@pytest.mark.parametrize("role", ["ingest", "screen", "respond"])
def test_every_role_needs_a_cluster_section(role: str, capsys: pytest.CaptureFixture[str]) -> None:
    rc, err = _run(capsys, "-c", str(EXAMPLE), "--role", role)
    assert rc == 2
    assert err.strip().splitlines() == [
        "error: this role needs a `cluster` section (nats_url, database_url) in the configuration; "
        "without one, run `bulwark watch`"
    ]


def test_unknown_network_and_protocol_are_named(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "bulwark.yaml"
    # Closed ports: the names are checked before anything connects.
    path.write_text(
        EXAMPLE.read_text()
        + "\ncluster:\n  nats_url: nats://127.0.0.1:9\n  database_url: postgresql://u@127.0.0.1:9/db\n"
    )
    rc, err = _run(capsys, "-c", str(path), "--role", "ingest", "--network", "nope")
    assert rc == 2 and "unknown network(s) nope: the configuration has local" in err
    rc, err = _run(capsys, "-c", str(path), "--role", "respond", "--protocol", "nope")
    assert rc == 2 and "unknown protocol 'nope': the configuration has demo" in err
