"""``bulwark watch`` with an ``intel:`` section: the feed is pulled at start, only what a trusted
publisher signed reaches the detectors, and a match of our own code becomes a pre-emptive incident
the watch's incident driver carries to a pending upgrade proposal (replay mode against a real
anvil)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import structlog
import yaml
from tests.e2e.intel._preempt import preempt_config

from bulwark.app.intel import vulnerable_code
from bulwark.chain import ChainClient, Signer, run
from bulwark.cli.main import main
from bulwark.domain import VulnClass
from bulwark.govern import proposals
from bulwark.intel.bundle import build_bundle
from bulwark.intel.feeds import FileFeed
from bulwark.intel.indicators import Indicator, IndicatorKind
from bulwark.scenarios.attack import World
from bulwark.scenarios.corpus import load_corpus
from bulwark.scenarios.deploy import deploy_protocol
from bulwark.scenarios.protocol import DemoProtocol, ImplSpec
from bulwark.store import Store
from bulwark.toolchain.anvil import Anvil, AnvilOptions
from bulwark.toolchain.solc import Compiler

pytestmark = pytest.mark.e2e

PUB = Signer("0x" + "a7" * 32)
STRANGER = Signer("0x" + "5e" * 32)

CONFIG = """
networks:
  local: {{rpc_http: "env:BULWARK_E2E_RPC", confirmations: 0, poll_interval_s: 0.05, mempool: "off"}}
protocols:
  p:
    network: local
    contracts: {{box: {{address: "{box}"}}}}
monitors:
  m:
    protocol: p
intel:
  publishers: ["{pub}"]
  feeds:
    peers: {{file: ./feed}}
  own_code:
    - {{protocol: p, component: box, source: "{source}", contract: PriceOracle}}
"""
SOURCE = Path("scenarios/oracle-open-setprice/PriceOracle.sol").resolve()
SCENARIO = load_corpus().get("oracle-open-setprice")


@pytest.fixture(autouse=True)
def _reset_logging() -> Iterator[None]:
    yield
    structlog.reset_defaults()


def _flag(address: str, signer: Signer, *more: Indicator) -> dict:
    now = datetime.now(UTC).replace(microsecond=0)
    ind = Indicator(IndicatorKind.ACCOUNT, address, now, now + timedelta(days=1))
    return build_bundle([ind, *more], signer)


def _vulnerable_setprice() -> Indicator:
    with Compiler() as compiler:
        [v] = vulnerable_code(compiler, SOURCE, "PriceOracle", VulnClass.ACCESS_CONTROL, use_slither=False)
    now = datetime.now(UTC).replace(microsecond=0)
    return Indicator(IndicatorKind.VULNERABLE_CODE, v.fingerprint, now, now + timedelta(days=1), v.vuln_class)


def test_watch_acts_on_trusted_indicators_only(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    db = f"sqlite:///{tmp_path / 'w.db'}"
    with Anvil(AnvilOptions()) as node:
        a = node.accounts
        feed = FileFeed(tmp_path / "feed")
        feed.publish(_flag(a[0].address, PUB, _vulnerable_setprice()))
        feed.publish(_flag(a[4].address, STRANGER))  # not trusted: must not flag a[4]
        cfg = tmp_path / "bulwark.yaml"
        cfg.write_text(CONFIG.format(box=a[2].address, pub=PUB.address, source=SOURCE))
        monkeypatch.setenv("BULWARK_E2E_RPC", node.http_url)

        async def send(sender: str) -> str:
            async with ChainClient(node.http_url) as c:
                await c.mine(1)
                tx = {"from": sender, "to": a[1].address, "value": "0x1"}
                return str(await c.request("eth_sendTransaction", [tx]))

        args = ["watch", "-c", str(cfg), "--json", "--state-dir", str(tmp_path / "s"), "--db", db]
        with pytest.raises(SystemExit) as info:
            main([*args, "--until-block", "0"])
        assert info.value.code == 0
        flagged, other = run(send(a[0].address)), run(send(a[4].address))
        with pytest.raises(SystemExit) as info:
            main([*args, "--until-block", "4"])
        assert info.value.code == 0
    out = capsys.readouterr().out
    lines = [json.loads(line) for line in out.splitlines() if line.startswith("{")]
    found = [(x["finding"]["detector"], x["finding"]["tx_hash"]) for x in lines if x["type"] == "finding"]
    assert found == [("indicator-match", flagged)] and other != flagged
    store = Store(db)
    try:
        kinds = [e.kind for e in store.audit_entries()]
        assert "intel.accepted" in kinds and "intel.rejected" in kinds
        # our own copy of the published vulnerable function: one incident, not one per run
        flagged_code = [f for f in store.findings() if f["detector"] == "intel-vulnerable-code"]
        assert len(flagged_code) == 1 and "PriceOracle.setPrice" in flagged_code[0]["title"]
        assert flagged_code[0]["contract"] == a[2].address
    finally:
        store.close()


def test_watch_turns_a_match_of_our_code_into_a_verified_pending_proposal(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    db = f"sqlite:///{tmp_path / 'w.db'}"
    with Anvil(AnvilOptions()) as node, Compiler() as compiler:

        async def deploy() -> DemoProtocol:
            async with ChainClient(node.http_url) as c:
                impl = {"oracle": ImplSpec(SOURCE, "PriceOracle")}
                return await deploy_protocol(c, compiler, node.accounts, implementations=impl)

        p = run(deploy())
        FileFeed(tmp_path / "feed").publish(_flag("0x" + "99" * 20, PUB, _vulnerable_setprice()))
        # The team's bulwark.yaml: project, contracts, policy, a responder, the feed and our own code.
        intel = {"publishers": [PUB.address], "feeds": {"peers": {"file": str(tmp_path / "feed")}}}
        cfg = preempt_config(World(protocol=p), SCENARIO, rpc_url="env:BULWARK_E2E_RPC", ws_url=node.ws_url,
                             folder=tmp_path / "cfg", intel=intel)  # fmt: skip
        doc = yaml.safe_load(cfg.read_text())
        doc["networks"]["local"].update(confirmations=0, poll_interval_s=0.05, mempool="off")
        doc["monitors"] = {"m": {"protocol": "demo"}}
        cfg.write_text(yaml.safe_dump(doc, sort_keys=False))
        monkeypatch.setenv("BULWARK_E2E_RPC", node.http_url)
        monkeypatch.setenv("BULWARK_DEMO_SENTINEL_KEY", p.sentinel.private_key)
        args = ["watch", "-c", str(cfg), "--json", "--state-dir", str(tmp_path / "s"), "--db", db]
        with pytest.raises(SystemExit) as info:
            main([*args, "--until-block", "0"])
        assert info.value.code == 0
    store = Store(db)
    try:
        [(proposal, state)] = proposals(store)
        assert state.value == "pending" and proposal.component == "oracle"
        incident = store.incident(str(proposal.incident_id))
        assert incident.state.value == "verified" and "PriceOracle.setPrice" in incident.title
        # the watch's incident driver carried it: no contain step, approval waits for the owners
        started = [e.payload["step"] for e in store.audit_entries(incident.id) if e.kind == "step.started"]
        assert started == ["patch", "verify", "approve"]
        assert any(e.kind == "step.waiting" for e in store.audit_entries(incident.id))
    finally:
        store.close()
