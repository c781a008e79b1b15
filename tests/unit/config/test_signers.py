"""``signers``: owner keys the incident pipeline may sign with, by reference only, for a protocol
that has a policy; and the pipeline's approve step signs with them if and only if they are there."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any, cast

import pytest

from bulwark.app import pipeline as pipeline_mod
from bulwark.app.pipeline import PipelineOptions, ProtocolPipeline
from bulwark.chain import Signer
from bulwark.config import ConfigProblems, load_config
from bulwark.domain import Address
from bulwark.domain.govern import ProposalState, SignatureStatus

OWNER = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"
KEY = "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d"  # anvil's dev key 1

BASE = f"""
version: 1
networks:
  local: {{rpc_http: "http://127.0.0.1:8545"}}
protocols:
  demo:
    network: local
    contracts:
      vault: {{address: "0x5FbDB2315678afecb367f032d93F642f64180aa3"}}
policies:
  demo:
    safe: "0xe7f1725E7734CE288F8367e1Bb143E90bb3F0512"
    timelock: "0x9fE46736679d2D9a65F0992F2272dE9f3c7fa6e0"
    owners: ["{OWNER}"]
    threshold: 1
    proxies: [vault]
    actions:
      upgrade: {{default: {{threshold: 1, delay_s: 0}}}}
      unpause: {{default: {{threshold: 1, delay_s: 0}}}}
"""


def _load(tmp_path: Path, extra: str) -> Any:
    path = tmp_path / "bulwark.yaml"
    path.write_text(BASE + extra)
    return load_config(path)


def test_a_literal_key_is_refused_without_echoing_it(tmp_path: Path) -> None:
    with pytest.raises(ConfigProblems) as info:
        _load(tmp_path, f'signers:\n  demo:\n    - key: "{KEY}"\n')
    text = "\n".join(info.value.problems)
    assert "signers.demo[0].key" in text and KEY not in text and KEY[2:] not in text


def test_signers_of_an_unknown_protocol_or_one_without_policy_are_reported(tmp_path: Path) -> None:
    with pytest.raises(ConfigProblems) as info:
        _load(tmp_path, "signers:\n  other:\n    - key: env:OWNER_KEY\n")
    assert any("signers.other: unknown protocol 'other'" in p for p in info.value.problems)


def test_a_keystore_needs_its_password(tmp_path: Path) -> None:
    with pytest.raises(ConfigProblems) as info:
        _load(tmp_path, "signers:\n  demo:\n    - key: keystore:owner.json\n")
    assert any("password" in p for p in info.value.problems)


def test_an_env_reference_resolves_when_signing_and_is_listed_as_a_secret(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = _load(tmp_path, "signers:\n  demo:\n    - key: env:OWNER_KEY\n")
    assert "signers.demo.0.key" in config.secrets()
    monkeypatch.setenv("OWNER_KEY", KEY)
    assert config.signers["demo"][0].private_key() == KEY


def _approve_calls(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, extra: str
) -> tuple[list[list[str]], bool]:
    """Which keys the pipeline's signature check signed with, and whether it then waited."""
    config = _load(tmp_path, extra)
    monkeypatch.setenv("OWNER_KEY", KEY)
    calls: list[list[str]] = []
    signed: list[str] = []

    async def approve_missing(_client: Any, _store: Any, _pid: str, keys: list[str]) -> None:
        calls.append(list(keys))
        signed.extend(Signer(k).address for k in keys)

    def status(_store: Any, pid: str) -> SignatureStatus:
        return SignatureStatus(
            pid, ProposalState.PENDING, 1, (Address(OWNER),), signed=tuple(Address(a) for a in signed)
        )

    monkeypatch.setattr(pipeline_mod, "approve_missing", approve_missing)
    monkeypatch.setattr(pipeline_mod, "status", status)
    pipe = ProtocolPipeline(
        config,
        "demo",
        cast(Any, None),
        Signer(KEY),
        PipelineOptions(workdir=tmp_path),
        rpc_url="http://127.0.0.1:1",
    )
    outcome = asyncio.run(pipe._signed(None, "prop-1", "upgrade"))  # type: ignore[arg-type]
    return calls, outcome is not None and outcome.waiting


def test_the_pipeline_signs_with_configured_signers_only(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls, waiting = _approve_calls(tmp_path, monkeypatch, "signers:\n  demo:\n    - key: env:OWNER_KEY\n")
    assert calls == [[KEY]] and not waiting


def test_a_production_config_never_signs_and_waits_for_the_owners(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls, waiting = _approve_calls(tmp_path, monkeypatch, "")
    assert calls == [] and waiting
