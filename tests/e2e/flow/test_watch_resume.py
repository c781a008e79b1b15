"""``bulwark watch`` killed right after it sent a pause leaves a DETECTED incident whose pause is
recorded as sent. On start, the next watch checks the chain: a pause that landed is recorded and
the incident is CONTAINED with nothing sent; a pause that never landed is sent again."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest
import structlog

from bulwark.app.contain import responder_from_config
from bulwark.chain import ChainClient
from bulwark.cli.config import check_file
from bulwark.cli.main import main
from bulwark.domain import (
    Action,
    Address,
    Confidence,
    Finding,
    IncidentState,
    Severity,
    TxHash,
    VulnClass,
)
from bulwark.scenarios.deploy import deploy_protocol
from bulwark.scenarios.protocol import DemoProtocol
from bulwark.store import Store
from bulwark.toolchain.anvil import Anvil, AnvilOptions
from bulwark.toolchain.solc import Compiler

pytestmark = pytest.mark.e2e

CONFIG = """
networks:
  local: {{rpc_http: "env:BULWARK_E2E_RPC", confirmations: 0, poll_interval_s: 0.05, mempool: "off"}}
protocols:
  demo:
    network: local
    contracts: {{vault: {{address: "{vault}"}}}}
monitors:
  m:
    protocol: demo
    rules:
      - {{name: big-value, when: tx, expr: "tx.value >= 5", severity: critical}}
responses:
  sentinel_key: env:SENTINEL_KEY
  guardians: {{demo: "{guardian}"}}
"""


class Env:
    def __init__(self, node: Anvil, protocol: DemoProtocol, loop: asyncio.AbstractEventLoop) -> None:
        self.node, self.protocol, self.loop = node, protocol, loop

    def call(self, fn: str, *args: object) -> object:
        async def go() -> object:
            async with ChainClient(self.node.http_url) as client:
                return await getattr(client, fn)(*args)

        return self.loop.run_until_complete(go())


@pytest.fixture(scope="module")
def chain() -> Iterator[Env]:
    loop = asyncio.new_event_loop()
    with Anvil(AnvilOptions()) as node, Compiler() as compiler:

        async def deploy() -> DemoProtocol:
            async with ChainClient(node.http_url) as client:
                return await deploy_protocol(client, compiler, node.accounts)

        yield Env(node, loop.run_until_complete(deploy()), loop)
    loop.close()


@pytest.fixture
def env(chain: Env) -> Iterator[Env]:
    snap = chain.call("snapshot")
    try:
        yield chain
    finally:
        chain.call("revert", snap)


def _finding(p: DemoProtocol) -> Finding:
    return Finding(
        "big-value",
        VulnClass.CUSTOM,
        Severity.CRITICAL,
        Confidence.HIGH,
        "a large transfer",
        "demo",
        Address(p.component("vault").proxy),
        TxHash("0x" + "ee" * 32),
        True,
        action=Action.PAUSE,
    )


def _watch(cfg: Path, db_url: str, state: Path, head: int) -> None:
    try:
        with pytest.raises(SystemExit) as info:
            main(
                [
                    "watch",
                    "-c",
                    str(cfg),
                    "--db",
                    db_url,
                    "--state-dir",
                    str(state),
                    "--until-block",
                    str(head),
                ]
            )
        assert info.value.code == 0
    finally:
        structlog.reset_defaults()


def _paused(env: Env) -> bool:
    call = {"to": env.protocol.component("vault").proxy, "data": "0x5c975abb"}  # paused()
    return int(str(env.call("request", "eth_call", [call, "latest"])), 16) == 1


@pytest.mark.parametrize("landed", [True, False])
def test_watch_on_start_carries_a_killed_watchs_incident_to_contained(
    env: Env, landed: bool, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    p = env.protocol
    cfg = tmp_path / "bulwark.yaml"
    cfg.write_text(CONFIG.format(vault=p.component("vault").proxy, guardian=p.guardian.address))
    monkeypatch.setenv("BULWARK_E2E_RPC", env.node.http_url)
    monkeypatch.setenv("SENTINEL_KEY", p.sentinel.private_key)
    db_url = f"sqlite:///{tmp_path / 'w.db'}"
    finding = _finding(p)

    # What a watch killed right after its pause broadcast leaves: the incident, the pause as sent.
    pause_tx = TxHash("0x" + "77" * 32)  # a pause the node dropped: it never landed
    if landed:

        async def send() -> TxHash:
            async with ChainClient(env.node.http_url) as client:
                responder = responder_from_config(check_file(cfg), client)  # records nothing
                await responder.start()
                [c] = await responder.respond(finding)
                assert c.tx_hash is not None
                await client.wait_for_receipt(c.tx_hash)
                return c.tx_hash

        pause_tx = env.loop.run_until_complete(send())
        assert _paused(env)
    store = Store(db_url)
    iid = store.open_incident(finding).id
    targets = ",".join(c.proxy for c in p.components.values())
    store.record_action(iid, "pause", "sent", step=targets, tx_hash=pause_tx)
    store.close()
    nonce = int(str(env.call("get_nonce", Address(p.sentinel.address), "latest")))

    _watch(cfg, db_url, tmp_path / "s", int(str(env.call("block_number"))))

    store = Store(db_url)
    try:
        assert store.incident(iid).state is IncidentState.CONTAINED
        assert [i.id for i in store.incidents()] == [iid]  # carried on, not opened again
        confirmed = [a for a in store.actions(iid) if a.status == "confirmed"]
        assert len(confirmed) == 1
        sent_again = int(str(env.call("get_nonce", Address(p.sentinel.address), "latest"))) - nonce
        if landed:
            assert sent_again == 0 and confirmed[0].tx_hash == pause_tx
        else:
            assert sent_again == 1 and confirmed[0].tx_hash != pause_tx
        assert _paused(env)
        assert store.verify_audit().ok
    finally:
        store.close()
