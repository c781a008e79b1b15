"""The ``cluster`` section: its shape, and ``bulwark config check`` reaching (or not) both servers."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
import structlog
from tests.support.nats_server import nats_server
from tests.support.postgres import postgres_server

from bulwark.cli.main import main
from bulwark.config import ConfigProblems, load_config

EXAMPLE = Path(__file__).resolve().parents[3] / "bulwark.example.yaml"


@pytest.fixture(autouse=True)
def _reset_logging() -> Iterator[None]:
    yield
    structlog.reset_defaults()


def _closed_port() -> int:
    with socket.socket() as s:  # bound and closed: nothing listens there afterwards
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _config(tmp_path: Path, section: str) -> Path:
    path = tmp_path / "bulwark.yaml"
    path.write_text(EXAMPLE.read_text() + "\ncluster:\n" + section)
    return path


def _check(capsys: pytest.CaptureFixture[str], path: Path) -> tuple[int, dict[str, object]]:
    with pytest.raises(SystemExit) as info:
        main(["config", "check", "-c", str(path), "--json"])
    return int(info.value.code or 0), json.loads(capsys.readouterr().out)


def test_cluster_section_parses_and_rejects_unknown_keys(tmp_path: Path) -> None:
    cfg = load_config(
        _config(tmp_path, "  nats_url: nats://127.0.0.1:4222\n  database_url: env:BULWARK_DB\n")
    )
    assert cfg.cluster is not None and cfg.cluster.ack_wait_s == 30.0
    assert cfg.cluster.tx_retention_s == 24 * 3600.0  # a day of screening backlog kept by the broker
    assert "cluster.database_url" in cfg.secrets()  # resolved and masked like every secret
    with pytest.raises(ConfigProblems) as info:
        load_config(_config(tmp_path, "  nats_url: nats://127.0.0.1:4222\n  database: x\n"))
    assert any(p == "cluster.database_url: Field required" for p in info.value.problems)
    assert any("cluster.database" in p and "unknown key" in p for p in info.value.problems)


def test_config_check_names_each_unreachable_server(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    nats_port, pg_port = _closed_port(), _closed_port()
    path = _config(
        tmp_path,
        f"  nats_url: nats://127.0.0.1:{nats_port}\n"
        f"  database_url: postgresql+psycopg://bulwark:hunter2@127.0.0.1:{pg_port}/bulwark\n"
        "  connect_timeout_s: 2\n",
    )
    rc, out = _check(capsys, path)
    assert rc == 2
    problems = out["problems"]
    assert isinstance(problems, list) and len(problems) == 2, problems
    assert problems[0].startswith(f"cluster.nats_url: NATS at 127.0.0.1:{nats_port} did not answer")
    assert problems[1].startswith(f"cluster.database_url: PostgreSQL at 127.0.0.1:{pg_port} did not answer")
    assert all("\n" not in p and "hunter2" not in p for p in problems)


def test_config_check_refuses_a_broker_without_jetstream_and_sqlite(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with nats_server(jetstream=False) as plain:
        path = _config(tmp_path, f"  nats_url: {plain.url}\n  database_url: sqlite:///x.db\n")
        rc, out = _check(capsys, path)
    assert rc == 2
    assert out["problems"] == [
        f"cluster.nats_url: NATS at 127.0.0.1:{plain.port} has no JetStream; start nats-server with -js",
        "cluster.database_url: must be a PostgreSQL URL (postgresql+psycopg://USER@HOST:PORT/DB)",
    ]


def test_config_check_passes_with_both_servers_up(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with nats_server() as broker, postgres_server() as db:
        path = _config(tmp_path, f"  nats_url: {broker.url}\n  database_url: {db}\n")
        rc, out = _check(capsys, path)
    assert rc == 0, out
    assert "cluster: NATS JetStream and PostgreSQL reachable" in out["summary"]


def test_postgres_urls_get_the_shipped_driver() -> None:
    from bulwark.config.cluster import postgres_url

    assert postgres_url("postgresql://u@h:5432/d") == "postgresql+psycopg://u@h:5432/d"
    assert postgres_url("postgres://u@h/d") == "postgresql+psycopg://u@h/d"
    assert postgres_url("postgresql+psycopg://u@h/d") == "postgresql+psycopg://u@h/d"
