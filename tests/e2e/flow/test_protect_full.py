"""``--protect full`` on every scenario of the corpus: the attack fails, the proxy is upgraded to
the verified implementation through the Safe and the timelock, the protocol is unpaused, benign
traffic works after resumption, and nothing is lost."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest

from bulwark.chain import ChainClient, Signer, TxRequest
from bulwark.detect.model import ProtocolModel
from bulwark.detect.setup import Monitor
from bulwark.domain.govern import GovAction, ProposalState
from bulwark.errors import RpcUnreachable
from bulwark.govern import proposals
from bulwark.lab.full import FullOptions, run_scenario_full
from bulwark.lab.protect import Detection
from bulwark.scenarios.corpus import load_corpus
from bulwark.scenarios.runner import RunOptions
from bulwark.store import Store
from bulwark.toolchain.anvil import Anvil, AnvilOptions
from bulwark.toolchain.solc import Compiler

pytestmark = pytest.mark.e2e

CORPUS = load_corpus()


@pytest.fixture(scope="module")
def compiler() -> Iterator[Compiler]:
    with Compiler() as c:
        yield c


@pytest.mark.parametrize("name", CORPUS.names())
def test_protect_full_ends_resumed_with_zero_loss(name: str, compiler: Compiler, tmp_path: Path) -> None:
    store = Store(f"sqlite:///{tmp_path / 'bulwark.db'}")
    try:
        out = run_scenario_full(
            CORPUS.get(name),
            RunOptions(benign_txs=10),
            store=store,
            full=FullOptions(workdir=tmp_path / "work", regress=8, benign_after=15, max_candidates=2),
            compiler=compiler,
        )
        assert out["loss_wei"] == 0 and not out["attack_succeeded"], out.get("drained")
        assert out["flow_state"] == "closed", out["flow_reason"]
        assert out["patched"] and out["verified"] and out["upgraded"] and out["resumed"]
        assert out["verification"]["attack_blocked"] is True
        assert out["benign_after"]["reverted"] == 0 and out["benign_after"]["txs"] == 15
        # The upgrade went through governance and carries the evidence the signers approved.
        upgrades = [(p, s) for p, s in proposals(store, out["incident"]) if p.action is GovAction.UPGRADE]
        assert len(upgrades) == 1
        proposal, state = upgrades[0]
        assert state is ProposalState.EXECUTED
        assert proposal.evidence_hash == out["evidence_hash"] == proposal.timelock_op.salt
        assert len(store.signatures(proposal.id)) >= 2
        # One attack, one incident: every other finding on it folded into the closed one.
        assert {i.state.value for i in store.incidents()} == {"closed"}
        assert store.verify_audit().ok
    finally:
        store.close()


def test_quiet_mining_outlives_a_failed_rpc_on_a_real_anvil() -> None:
    """Under load a ``txpool_status`` (or ``anvil_mine``) can time out: mining goes on, so a
    transaction sent meanwhile is mined (before, the miner died silently, automine stayed off and
    every receipt wait of the run timed out), and stop() leaves automine on."""

    async def body(node: Anvil) -> None:
        detection = Detection(node, Monitor("m", ProtocolModel("p", {}), (), cooldown_s=0, mempool=True))
        await detection.start()
        assert detection._client is not None
        real = detection._client.request
        failing = {"txpool_status": 2, "anvil_mine": 1}

        async def flaky(method: str, params: Sequence[Any] = ()) -> Any:
            if failing.get(method, 0) > 0:
                failing[method] -= 1
                raise RpcUnreachable(f"cannot reach the JSON-RPC endpoint ({method}: timed out)")
            return await real(method, params)

        detection._client.request = flaky  # type: ignore[method-assign]
        try:
            detection.start_mining()
            async with ChainClient(node.http_url) as client:
                a, b = node.accounts[:2]
                tx = await client.send_transaction(
                    TxRequest(to=b.address, value=1), sender=Signer(a.private_key)
                )
                receipt = await client.wait_for_receipt(tx, timeout_s=60)
                assert receipt.status and failing == {"txpool_status": 0, "anvil_mine": 0}
        finally:
            await detection.stop()
        async with ChainClient(node.http_url) as client:
            assert await client.request("anvil_getAutomine") is True

    with Anvil(AnvilOptions()) as node:
        asyncio.run(body(node))
