"""What app.intel wires, with fakes in place of the chain and the scan (the same paths run for real
in tests/e2e/intel/)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from tests.unit.config.test_config import VALID, _write

from bulwark.app.intel import Subscriptions, consensus_responder_from_config, remember
from bulwark.app.intel import watch as intel_watch
from bulwark.chain import Signer
from bulwark.config import load_config
from bulwark.config.intel import IntelConfig
from bulwark.detect.report import finding_json
from bulwark.domain import Address, VulnClass
from bulwark.errors import ConfigError
from bulwark.intel.indicators import Indicator, IndicatorKind
from bulwark.intel.subscribe import Intel
from bulwark.intel.subscriptions import FeedSubscription
from bulwark.store import Store

SENTINEL = Signer("0x" + "02" * 32)
GUARDIAN = "0x" + "47" * 20
PUB = Address(Signer("0x" + "01" * 32).address)
NOW = datetime.now(UTC).replace(microsecond=0)


@pytest.fixture
def store(tmp_path: Path) -> Any:
    s = Store(f"sqlite:///{tmp_path / 's.db'}")
    yield s
    s.close()


def _indicator(kind: IndicatorKind, value: str) -> Indicator:
    return Indicator(kind, value, NOW, NOW + timedelta(days=1), VulnClass.ACCESS_CONTROL)


class FakeClient:
    async def chain_id(self) -> int:
        return 31337


class FakeRelayer:
    def __init__(self, client: Any, signer: Signer, policy: Any) -> None:
        self.client, self.signer, self.policy = client, signer, policy
        self.started = False

    async def start(self) -> None:
        self.started = True


def test_the_consensus_responder_is_built_from_responses_and_intel_consensus(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BULWARK_TEST_RPC", "http://127.0.0.1:1")
    monkeypatch.setenv("SENTINEL_KEY", "0x" + "02" * 32)
    monkeypatch.setenv("CHANNEL", "s3cret")
    monkeypatch.setattr(intel_watch, "Relayer", FakeRelayer)
    text = VALID + (
        f"responses:\n  sentinel_key: env:SENTINEL_KEY\n  guardians: {{demo: '{GUARDIAN}'}}\n"
        "intel:\n  consensus: {threshold: 2, peers: ['http://10.0.0.2:8547'], channel_secret: env:CHANNEL}\n"
    )
    config = load_config(_write(tmp_path, text))
    responder = asyncio.run(consensus_responder_from_config(config, FakeClient()))  # type: ignore[arg-type]
    relayer: FakeRelayer = responder.relayer  # type: ignore[assignment]
    assert relayer.started and relayer.signer.address == SENTINEL.address
    assert responder.chain_id == 31337
    assert (responder.settings.threshold, responder.settings.peers) == (2, ("http://10.0.0.2:8547",))
    assert responder.settings.secret == b"s3cret"
    assert responder.finding_json is finding_json  # the one Finding codec, signed into the request
    assert responder.protected["demo"].guardian.lower() == GUARDIAN


def test_consensus_mode_without_its_sections_fails_closed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BULWARK_TEST_RPC", "http://127.0.0.1:1")
    config = load_config(_write(tmp_path, VALID))
    with pytest.raises(ConfigError, match="consensus mode needs"):
        asyncio.run(consensus_responder_from_config(config, FakeClient()))  # type: ignore[arg-type]


def test_subscriptions_from_config_names_every_unknown_own_contract(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, store: Store
) -> None:
    monkeypatch.setenv("BULWARK_TEST_RPC", "http://127.0.0.1:1")
    text = VALID + (
        "intel:\n  own_code:\n"
        "    - {protocol: demo, component: nope, source: a.sol, contract: A}\n"
        "    - {protocol: other, component: vault, source: a.sol, contract: A}\n"
    )
    config = load_config(_write(tmp_path, text))
    with pytest.raises(ConfigError) as err:
        Subscriptions.from_config(config, [], store)
    assert "intel.own_code.0" in str(err.value) and "intel.own_code.1" in str(err.value)


def _subs(tmp_path: Path, store: Store, own_code: list[dict[str, str]]) -> tuple[Subscriptions, list[Intel]]:
    cfg = IntelConfig.model_validate({"publishers": [PUB], "own_code": own_code})
    subs = Subscriptions(cfg, tmp_path, [], store)
    scanned: list[Intel] = []

    async def scan(intel: Intel) -> list[str]:
        scanned.append(intel)
        return []

    subs.scan = scan  # type: ignore[method-assign]
    return subs, scanned


def test_a_refresh_scans_our_code_only_for_vulnerable_code_and_only_when_own_code_is_given(
    tmp_path: Path, store: Store
) -> None:
    own = [{"protocol": "demo", "component": "vault", "source": "V.sol", "contract": "V"}]
    subs, scanned = _subs(tmp_path, store, own)
    assert subs.feeds == [] and isinstance(subs.subscription, FeedSubscription)
    remember(store, Intel(((PUB, _indicator(IndicatorKind.ACCOUNT, "0x" + "d1" * 20)),), ()))
    asyncio.run(subs.refresh())
    assert scanned == []  # an address is detection input, not code to scan for
    remember(store, Intel(((PUB, _indicator(IndicatorKind.VULNERABLE_CODE, "0x" + "ab" * 32)),), ()))
    intel = asyncio.run(subs.refresh())
    assert [i.value for i in scanned[0].vulnerable_code] == ["0x" + "ab" * 32]
    assert intel.vulnerable_code == scanned[0].vulnerable_code
    nobody, none_scanned = _subs(tmp_path, store, [])
    asyncio.run(nobody.refresh())
    assert none_scanned == []


def test_a_feed_subscription_hands_only_still_valid_kept_intel_on(store: Store, tmp_path: Path) -> None:
    got: list[Intel] = []

    async def on_intel(intel: Intel) -> None:
        got.append(intel)

    expired = Indicator(
        IndicatorKind.ACCOUNT, "0x" + "e1" * 20, NOW - timedelta(days=2), NOW - timedelta(days=1)
    )
    remember(store, Intel(((PUB, expired), (PUB, _indicator(IndicatorKind.ACCOUNT, "0x" + "d1" * 20))), ()))
    sub = FeedSubscription(IntelConfig.model_validate({"publishers": [PUB]}), tmp_path, store, on_intel)
    asyncio.run(sub.refresh())
    assert [i.value for _, i in got[0].indicators] == ["0x" + "d1" * 20]
