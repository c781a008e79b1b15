"""Collective defence, end to end: two demo protocols on one anvil, each with its own Bulwark.

Protocol A is attacked (oracle-open-setprice) under its own containment; ``bulwark intel publish``
turns its incident into indicators, a signed STIX bundle on a file feed, which also holds a tampered
copy, a bundle from an unknown publisher and one whose indicators have expired. Protocol B runs
``bulwark intel pull`` trusting A's publisher only (the three are rejected and audited), finds
its own copy of the vulnerable oracle, and its incident driver carries the pre-emptive incident
through the incident pipeline from B's ``bulwark.yaml`` (no containment; verified without an attack)
to an upgrade proposal pending for B's owners; then a fresh attacker account deploys a fresh copy
of the exploit contract (same code, another owner baked into its immutable, so another code hash)
and runs the attack on B: B's responder pauses before the deployment is included, on the
exploit-fingerprint finding.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, cast

import pytest
import structlog
from eth_account import Account
from tests.e2e.intel._preempt import preempt_config
from typer.testing import CliRunner

from bulwark.app.driver import IncidentDriver
from bulwark.app.intel import Subscriptions, intel_from_store, monitor_with_intel
from bulwark.chain import ChainClient, Signer, run
from bulwark.cli.main import app
from bulwark.config import load_config
from bulwark.domain import Address, IncidentState, TxHash
from bulwark.govern import load, proposals
from bulwark.intel.bundle import build_bundle
from bulwark.intel.feeds import FileFeed
from bulwark.intel.fingerprint import code_hash
from bulwark.intel.indicators import Indicator, IndicatorKind
from bulwark.lab.contain import Containing, run_contain_async
from bulwark.lab.protect import scenario_monitor
from bulwark.respond import DEFAULT_POLICY
from bulwark.scenarios.attack import ScenarioContext, World, script_attack
from bulwark.scenarios.corpus import load_corpus, load_script
from bulwark.scenarios.deploy import SeedPlan, deploy_protocol, fund
from bulwark.scenarios.protocol import Actor, ImplSpec
from bulwark.scenarios.runner import ATTACKER_CAPITAL_USD, ATTACKER_CAPITAL_WETH, RunOptions
from bulwark.store import Store
from bulwark.toolchain.anvil import Anvil, AnvilOptions
from bulwark.toolchain.solc import Compiler

pytestmark = pytest.mark.e2e

SCENARIO = load_corpus().get("oracle-open-setprice")
PUBLISHER_KEY = "0x" + "a7" * 32  # protocol A's intel key
PUBLISHER = Signer(PUBLISHER_KEY)
STRANGER = Signer("0x" + "5e" * 32)  # not trusted by B


def _feed_extras(feed: FileFeed, genuine: dict[str, Any]) -> None:
    """Three bundles B must refuse: a tampered copy, an unknown publisher, expired indicators."""
    tampered = json.loads(json.dumps(genuine))
    ind = next(o for o in tampered["objects"] if o["type"] == "indicator" and o["x_evm_kind"] == "account")
    # changed consistently (value and pattern agree), so only the signed hashes betray it
    ind["x_evm_value"] = "0x000000000000000000000000000000000000dEaD"
    ind["pattern"] = "[x-evm-account:address = '0x000000000000000000000000000000000000dEaD']"
    tampered["id"] = "bundle--00000000-0000-4000-8000-00000000000a"
    feed.publish(tampered)
    now = datetime.now(UTC)
    stranger = Indicator(
        IndicatorKind.ACCOUNT, "0x000000000000000000000000000000000000bEEF", now, now + timedelta(days=1)
    )
    feed.publish(build_bundle([stranger], STRANGER, publisher_name="stranger"))
    old = now - timedelta(days=10)
    expired = Indicator(
        IndicatorKind.ACCOUNT, "0x000000000000000000000000000000000000c0dE", old, old + timedelta(days=1)
    )
    feed.publish(build_bundle([expired], PUBLISHER, publisher_name="a"))


def _cli(*args: str) -> dict[str, Any]:
    try:
        out = CliRunner().invoke(app, ["intel", *args, "--json"])
    finally:  # the command bound its logs to the runner's stderr, which is closed now
        structlog.reset_defaults()
    assert out.exit_code == 0, out.output
    return dict(json.loads(out.stdout))


def test_an_attack_on_one_protocol_protects_the_other(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("INTEL_PUBLISHER_KEY", PUBLISHER_KEY)
    compiler = Compiler()
    db_a, db_b = f"sqlite:///{tmp_path / 'a.db'}", f"sqlite:///{tmp_path / 'b.db'}"
    store_a, store_b = Store(db_a), Store(db_b)
    feed = FileFeed(tmp_path / "feed")
    impl = ImplSpec(SCENARIO.vulnerable.source, SCENARIO.vulnerable.contract)
    attack = script_attack(load_script(SCENARIO))
    result: dict[str, Any] = {}

    async def on_b(node: Anvil, client: ChainClient, ctx_a: ScenarioContext, hashes_a: list[TxHash]) -> None:
        # -- A: its incident becomes a signed bundle --------------------------------------------
        incident_a = next(
            i.id
            for i in store_a.incidents()
            if any(
                str(f.get("tx_hash")).lower() in {h.lower() for h in hashes_a} for f in store_a.findings(i.id)
            )
        )
        # `bulwark intel publish` on A's store: evidence from the chain, the vulnerable function
        # from the patch stage's localisation, signed with A's key, written to the file feed.
        published = await asyncio.to_thread(
            _cli,
            "publish", incident_a, "--db", db_a, "--key", "env:INTEL_PUBLISHER_KEY", "--out", str(feed.path),
            "--rpc", node.http_url, "--source", str(SCENARIO.vulnerable.source),
            "--contract", SCENARIO.vulnerable.contract,
        )  # fmt: skip
        result["published"] = {IndicatorKind(i["kind"]): i["value"] for i in published["indicators"]}
        genuine = json.loads(next(feed.path.glob("*.json")).read_text())
        _feed_extras(feed, genuine)

        # -- B: a second protocol, its own Bulwark ----------------------------------------------
        seed = dataclasses.replace(SeedPlan(), **cast(dict[str, Any], dict(SCENARIO.seed)))
        proto_b = await deploy_protocol(
            client, compiler, node.accounts, implementations={"oracle": impl}, seed=seed
        )
        world_b = World(protocol=proto_b)
        # `bulwark intel pull` for B (trusting A's publisher only), then act on what B kept.
        cfg = tmp_path / "b.yaml"
        cfg.write_text(
            f"intel:\n  publishers: ['{PUBLISHER.address}']\n  feeds:\n    a: {{file: {feed.path}}}\n"
        )
        pulled = await asyncio.to_thread(_cli, "pull", "-c", str(cfg), "--db", db_b)
        result["rejections"] = [r["reason"] for r in pulled["rejected"]]
        intel = intel_from_store(store_b)
        result["accepted"] = {(i.kind, i.value) for _, i in intel.indicators}

        # Its own copy of the vulnerable oracle, from B's bulwark.yaml: the scan opens a
        # pre-emptive incident, B's incident driver patches, verifies and proposes it.
        config_b = load_config(
            preempt_config(world_b, SCENARIO, rpc_url=node.http_url, ws_url=node.ws_url,
                           folder=tmp_path / "b", intel={"publishers": [PUBLISHER.address]})
        )  # fmt: skip
        result["opened"] = await Subscriptions.from_config(config_b, [], store_b).scan(intel)
        driver = IncidentDriver(config_b, store_b, "local", client, Signer(proto_b.deployer.private_key),
                                None, workdir=tmp_path / "work", rpc_url=node.http_url)  # fmt: skip
        result["carried"] = await driver.tick()
        result["oracle_b"] = proto_b.component("oracle").proxy

        # The replay: a new attacker account, a fresh exploit contract with the same code.
        fresh = Account.create()
        attacker = Actor("attacker-2", Address(fresh.address), "0x" + bytes(fresh.key).hex())
        await client.request("anvil_setBalance", [attacker.address, hex(100 * 10**18)])
        await fund(client, proto_b, attacker.address, usd=ATTACKER_CAPITAL_USD, weth=ATTACKER_CAPITAL_WETH)
        ctx_b = ScenarioContext(
            scenario=SCENARIO,
            client=client,
            compiler=compiler,
            world=world_b,
            attacker=attacker,
            implementation=impl,
        )
        guard = Containing(node, monitor_with_intel(scenario_monitor(world_b), intel))
        await guard.start()
        responder = await guard.start_responder(proto_b, world_b, DEFAULT_POLICY, store_b)
        guard.start_mining()
        try:
            hashes_b = await attack(ctx_b)
            result["outcomes"] = await responder.settle_all(timeout_s=20)
        finally:
            await guard.stop()
        result["hashes_b"] = hashes_b
        deploy_b = await client.get_receipt(hashes_b[0])
        assert deploy_b is not None and deploy_b.contract_address is not None
        code_b = await client.request("eth_getCode", [deploy_b.contract_address, "latest"])
        result["code_hash_b"] = code_hash(bytes.fromhex(str(code_b)[2:]))
        result["drain_b"] = await client.get_receipt(hashes_b[-1])

    with Anvil(AnvilOptions()) as node:

        async def go() -> dict[str, Any]:
            async with ChainClient(node.http_url) as client:

                async def then(
                    ctx: ScenarioContext, hashes: list[TxHash], out: dict[str, Any]
                ) -> dict[str, Any]:
                    result["a"] = out
                    await on_b(node, client, ctx, hashes)
                    return {}

                return await run_contain_async(
                    SCENARIO, RunOptions(benign_txs=0), node, client, compiler, store=store_a, then=then
                )

        try:
            run(go())
        finally:
            compiler.close()

    published = result["published"]
    # A's incident taught exact and normalised code, the attacker and the vulnerable function.
    assert {IndicatorKind.ACCOUNT, IndicatorKind.CODE_HASH, IndicatorKind.CODE_FINGERPRINT,
            IndicatorKind.VULNERABLE_CODE} <= set(published)  # fmt: skip
    # The fresh exploit contract's code hash differs (another owner in its immutable): only the
    # fingerprint can recognise it.
    assert result["code_hash_b"] not in {v for k, v in result["accepted"] if k is IndicatorKind.CODE_HASH}

    # Rejected and audited: the tampered bundle, the unknown publisher, the expired indicator.
    reasons = " | ".join(result["rejections"])
    assert "altered" in reasons and "unknown publisher" in reasons and "expired" in reasons, reasons
    accepted_values = {v for _, v in result["accepted"]}
    assert not {"0x000000000000000000000000000000000000dEaD", "0x000000000000000000000000000000000000bEEF",
                "0x000000000000000000000000000000000000c0dE"} & accepted_values  # fmt: skip
    audited = [e for e in store_b.audit_entries() if e.kind == "intel.rejected"]
    assert len(audited) >= 3
    assert any(e.kind == "intel.accepted" for e in store_b.audit_entries())
    assert any(e.kind == "intel.published" for e in store_a.audit_entries())

    # B paused before the fresh exploit contract's deployment was included, on the fingerprint.
    hashes_b = [h.lower() for h in result["hashes_b"]]
    by_fp = [o for o in result["outcomes"] if o.containment.finding.detector == "exploit-fingerprint"]
    assert by_fp, [o.containment.finding.detector for o in result["outcomes"]]
    first = by_fp[0]
    assert str(first.containment.attack_tx).lower() == hashes_b[0]
    assert first.ok and first.ordering in ("before-same-block", "earlier-block"), first.ordering
    assert result["drain_b"] is not None and not result["drain_b"].status  # the drain found B paused

    # B's own copy of the vulnerable code: matched by shape, localised, patched, verified, proposed.
    [iid] = result["opened"]
    [finding] = store_b.findings(iid)
    assert finding["detector"] == "intel-vulnerable-code" and finding["evidence"]["preemptive"] is True
    assert (finding["evidence"]["function"], finding["evidence"]["localised"]) == ("setPrice", True)
    assert finding["contract"] == result["oracle_b"] and finding["function"] is not None
    assert result["carried"] == {iid: IncidentState.VERIFIED}, store_b.artifacts()
    steps = [e.payload.get("step") for e in store_b.audit_entries() if e.kind == "step.started"]
    assert steps == ["patch", "verify", "approve"]  # nothing was paused: no contain step
    [(proposal, state)] = proposals(store_b, iid)
    assert state.value == "pending" and proposal.component == "oracle"
    _, step_verify, verdict = store_b.artifact(f"{iid}/verify")
    # regression and layout only: there was no attack to replay, and the candidate fixes setPrice
    assert step_verify == "done" and verdict["pass"] and verdict["layout_ok"], verdict
    assert verdict["attack_blocked"] is None and verdict["regressions"] == 0
    patch = store_b.artifact(f"{iid}/patch")[2]
    assert patch["attack_txs"] == [] and patch["candidates"][verdict["candidate"]]["function"] == "setPrice"
    assert load(store_b, proposal.id)[1].value == "pending"
    assert store_a.verify_audit().ok and store_b.verify_audit().ok
    store_a.close()
    store_b.close()
