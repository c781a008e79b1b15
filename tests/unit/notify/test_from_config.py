"""Channels built from bulwark.yaml announce findings (through a real local receiver)."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest
from tests.unit.notify.conftest import Receiver

from bulwark.app.notify import announcing, notifier_from_config
from bulwark.config import load_config
from bulwark.detect.service import Raised
from bulwark.domain import Action, Confidence, Finding, Severity, VulnClass
from bulwark.errors import ConfigError
from bulwark.notify import verify

SECRET = "hook-secret-0123456789abcdef"


def _config(tmp_path: Path, url_ref: str, min_severity: str = "high") -> Path:
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
notifications:
  ops: {{kind: webhook, url: "{url_ref}", secret: env:HOOK_SECRET, min_severity: {min_severity}}}
"""
    )
    return path


def _finding(severity: Severity) -> Finding:
    return Finding("reentrancy", VulnClass.REENTRANCY, severity, Confidence.HIGH, "vault re-entered", "demo",
                   None, "0x" + "ab" * 32, True, action=Action.PAUSE)  # fmt: skip


def test_findings_reach_the_configured_webhook_signed(
    receiver: Receiver, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HOOK_URL", receiver.url)
    monkeypatch.setenv("HOOK_SECRET", SECRET)
    notifier = notifier_from_config(load_config(_config(tmp_path, "env:HOOK_URL")))
    assert notifier is not None
    printed: list[object] = []

    async def go() -> None:
        sink = announcing(notifier, printed.append)
        await sink(Raised(_finding(Severity.CRITICAL), 4.2))
        await sink(Raised(_finding(Severity.LOW), 4.2))  # below the channel's min_severity
        await notifier.drain()

    asyncio.run(go())
    assert len(printed) == 2  # the sink still sees everything
    [req] = receiver.requests
    assert json.loads(req.body)["title"] == "[CRITICAL] vault re-entered"
    assert verify(SECRET, req.headers["x-bulwark-timestamp"], req.body, req.headers["x-bulwark-signature"])


def test_a_missing_secret_is_a_clear_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("HOOK_SECRET", raising=False)
    monkeypatch.setenv("HOOK_URL", "http://127.0.0.1:9/hook")
    with pytest.raises(ConfigError, match="HOOK_SECRET"):
        notifier_from_config(load_config(_config(tmp_path, "env:HOOK_URL")))
