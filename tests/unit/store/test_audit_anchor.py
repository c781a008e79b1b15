"""Anchors end to end (#16.5): an incident closes, the signed head reaches a real webhook, and
`bulwark audit verify --anchor` (the message as received) catches the tail cut off afterwards."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
import structlog
from sqlalchemy import create_engine, text
from tests.unit.notify.conftest import Receiver, receiver  # noqa: F401
from tests.unit.store.test_store import _finding
from typer.testing import CliRunner

from bulwark.app.notify import notifier_from_config
from bulwark.cli.audit import anchor_sink, open_store
from bulwark.cli.main import app
from bulwark.config import load_config
from bulwark.domain import IncidentState
from bulwark.store import Store
from bulwark.store.audit import Anchor

KEY = "0123456789abcdef-audit-key"
CLOSE_PATH = (
    IncidentState.CONTAINED,
    IncidentState.PATCHED,
    IncidentState.VERIFIED,
    IncidentState.APPROVED,
    IncidentState.UPGRADED,
    IncidentState.RESUMED,
    IncidentState.CLOSED,
)


@pytest.fixture(autouse=True)
def _env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[None]:
    monkeypatch.chdir(tmp_path)  # no demo key from a ./.bulwark left by an earlier demo
    monkeypatch.delenv("BULWARK_AUDIT_KEY", raising=False)
    monkeypatch.setenv("AUDIT_KEY", KEY)
    yield
    structlog.reset_defaults()  # the CLI binds logging to the runner's stream


def _config(tmp_path: Path) -> Path:
    path = tmp_path / "bulwark.yaml"
    path.write_text(
        f"""
version: 1
networks:
  local: {{chain_id: 31337, rpc_http: "http://127.0.0.1:8545"}}
protocols:
  demo:
    network: local
    contracts:
      vault: {{address: "0x5FC8d32690cc91D4c39d9d3abcBD16989F875707", kind: vault}}
database_url: "sqlite:///{tmp_path / "bulwark.db"}"
audit_key: env:AUDIT_KEY
notifications:
  ops: {{kind: webhook, url: "env:HOOK_URL", min_severity: critical}}
"""
    )
    return path


def test_an_anchor_sent_at_close_catches_a_cut_tail(
    receiver: Receiver,  # noqa: F811
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("HOOK_URL", receiver.url)
    config = _config(tmp_path)
    cfg = load_config(config)
    notifier = notifier_from_config(cfg)
    store = open_store(None, None, cfg)
    assert store.audit_keyed
    store.set_anchor_sink(anchor_sink(notifier, keyed=True), every_s=3600)
    inc = store.open_incident(_finding())
    for state in CLOSE_PATH[:-1]:
        store.transition(inc.id, state, "step")
    assert receiver.requests == []  # nothing closed yet, and the period has not passed
    store.transition(inc.id, IncidentState.CLOSED, "done")
    store.audit("note", {"after": "close"})
    store.audit("note", {"after": "close", "n": 2})
    store.close()

    # The anchor went out even though the channel only wants critical messages.
    [req] = receiver.requests
    body = json.loads(req.body)
    assert body["event"] == "audit.anchor" and body["fields"]["seq"] == "8"
    anchor_file = tmp_path / "anchor.json"
    anchor_file.write_bytes(req.body)  # what the receiver kept, as received

    runner = CliRunner()
    args = ["audit", "verify", "--config", str(config), "--anchor", str(anchor_file)]
    out = runner.invoke(app, args)
    assert out.exit_code == 0, out.output
    assert "intact" in out.output and "keyed (HMAC-SHA256" in out.output and "1 anchor" in out.output

    engine = create_engine(cfg.database_url.resolve())  # type: ignore[union-attr]
    with engine.begin() as conn:  # cut the tail: the close and what came after
        conn.execute(text("DELETE FROM audit_log WHERE seq >= 8"))
        conn.execute(text("UPDATE incidents SET state = 'resumed'"))
    engine.dispose()
    assert runner.invoke(app, ["audit", "verify", "--config", str(config)]).exit_code == 0
    out = runner.invoke(app, [*args, "--json"])
    assert out.exit_code == 1
    result = json.loads(out.output)
    assert result["first_broken"] == 8 and "entry 8 was deleted" in result["reason"]


def test_without_a_key_verify_says_it_only_checked_the_hash_chain(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'bulwark.db'}"
    keyed = Store(url, audit_key=KEY)
    keyed.audit("note", {"i": 1})
    keyed.close()
    out = CliRunner().invoke(app, ["audit", "verify", "--db", url])
    assert out.exit_code == 0, out.output
    assert "hash-chained only (not keyed" in out.output and "1 MACs not checked" in out.output
    out = CliRunner().invoke(app, ["audit", "verify", "--db", url, "--audit-key", "env:AUDIT_KEY"])
    assert out.exit_code == 0 and "checked: keyed" in out.output, out.output


def test_anchors_also_go_out_periodically(tmp_path: Path) -> None:
    store = Store(f"sqlite:///{tmp_path / 'bulwark.db'}", audit_key=KEY)
    sent: list[Anchor] = []
    store.set_anchor_sink(sent.append, every_s=0)  # every write is past the period
    store.audit("note", {"i": 1})
    store.audit("note", {"i": 2})
    assert [a.seq for a in sent] == [1, 2] and all(a.signature_ok(KEY.encode()) for a in sent)
    store.set_anchor_sink(sent.append, every_s=3600)
    store.audit("note", {"i": 3})
    assert len(sent) == 2
    store.close()


def test_a_failing_channel_never_fails_the_write(tmp_path: Path) -> None:
    store = Store(f"sqlite:///{tmp_path / 'bulwark.db'}")

    def down(_: Anchor) -> None:
        raise ConnectionError("channel down")

    store.set_anchor_sink(down, every_s=0)
    store.audit("note", {"i": 1})
    assert store.verify_audit().ok
    store.close()


def test_commands_on_the_demo_store_use_the_demo_key(tmp_path: Path) -> None:
    from bulwark.cli.audit import demo_audit_key

    key, ref = demo_audit_key()  # what `bulwark demo` makes in ./.bulwark
    url = f"sqlite:///{tmp_path / 'bulwark.db'}"
    store = open_store(url)  # any later command (incidents resume, propose...) on the same store
    store.audit("note", {"i": 1})
    store.close()
    assert Store(url, audit_key=key).verify_audit().mode.startswith("keyed")
    out = CliRunner().invoke(app, ["audit", "verify", "--db", url])
    assert out.exit_code == 0 and f"(key {ref})" in out.output, out.output
