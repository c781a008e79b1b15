"""The chain changing under the watcher, against a real anvil (issue #16, items 1 and 2):

* a node reset (its chain now shorter than the checkpoint) is reported and followed: the old
  blocks are orphaned and the new chain's blocks are processed, instead of waiting forever;
* a node restarted from saved state cannot trace the transactions it loaded: they are retried,
  then reported as not judgeable, never passed over in silence, and only then checkpointed;
* a node whose chain id changes stops the watcher before it processes another block.
"""

from __future__ import annotations

import asyncio
import socket
from pathlib import Path

import pytest

from bulwark.chain import ChainClient
from bulwark.chain.client import ChainIdMismatch
from bulwark.chain.mempool import BatchRpc
from bulwark.chain.watchers import (
    BlockOrphaned,
    BlockProcessed,
    ChainIdGuard,
    ChainRewound,
    Checkpoint,
    HeadEvent,
    HeadWatcher,
    MemoryCheckpointStore,
)
from bulwark.config.models import RuleConfig
from bulwark.detect.builtins.rules import DeclarativeRules, RulesParams
from bulwark.detect.model import ContractInfo, ProtocolModel
from bulwark.detect.screen import Screener
from bulwark.detect.service import DetectionService, Output, Raised, Unjudged
from bulwark.detect.setup import Monitor
from bulwark.domain import Address, Severity
from bulwark.toolchain.anvil import Anvil, AnvilOptions

pytestmark = pytest.mark.e2e

DEADLINE_S = 30.0  # a watcher that hangs fails here instead of hanging the suite


async def _collect(watcher: HeadWatcher, until: int) -> list[HeadEvent]:
    async def go() -> list[HeadEvent]:
        return [e async for e in watcher.events(until=until)]

    return await asyncio.wait_for(go(), DEADLINE_S)


async def _send(client: ChainClient, node: Anvil, value: int) -> str:
    a = node.accounts
    return str(
        await client.request(
            "eth_sendTransaction", [{"from": a[0].address, "to": a[1].address, "value": hex(value)}]
        )
    )


def _value_monitor() -> Monitor:
    dummy = Address("0x" + "11" * 20)
    proto = ProtocolModel("p", {dummy: ContractInfo("dummy", dummy, "generic")})
    rule = RuleConfig(name="value", when="tx", expr="tx.value > 0", severity=Severity.LOW)
    return Monitor("m", proto, (DeclarativeRules(RulesParams(rules=(rule,))),), cooldown_s=0, mempool=True)


def test_a_reset_to_a_shorter_chain_is_reported_and_followed() -> None:
    async def go() -> None:
        with Anvil(AnvilOptions()) as node:
            client = ChainClient(node.http_url)
            store = MemoryCheckpointStore()
            await client.mine(5)
            watcher = HeadWatcher(client, store, "r", confirmations=0, poll_interval_s=0.02)
            await _collect(watcher, 5)
            old = dict(store.load("r").recent)  # type: ignore[union-attr]
            await client.request("anvil_reset", [])  # a new chain: genesis again, shorter than 5
            await client.mine(3)
            events = await _collect(watcher, 3)
            rewinds = [e for e in events if isinstance(e, ChainRewound)]
            assert [(r.kind, r.last_processed, r.resume_after) for r in rewinds] == [("reset", 5, -1)]
            orphaned = [(e.number, e.hash) for e in events if isinstance(e, BlockOrphaned)]
            assert orphaned == sorted(old.items(), reverse=True)  # every old block, newest first
            processed = [e.block.number for e in events if isinstance(e, BlockProcessed)]
            assert processed == [0, 1, 2, 3]  # the new chain from its start
            assert store.load("r").block_number == 3  # type: ignore[union-attr]
            await client.close()

    asyncio.run(go())


def test_a_reorg_below_the_checkpoint_rewinds_to_the_common_ancestor() -> None:
    async def go() -> None:
        with Anvil(AnvilOptions()) as node:
            client = ChainClient(node.http_url)
            await client.mine(3)
            watcher = HeadWatcher(client, MemoryCheckpointStore(), "g", confirmations=0, poll_interval_s=0.02)
            await _collect(watcher, 3)
            snap = await client.snapshot()
            await client.mine(4)  # blocks 4..7, processed, then undone
            await _collect(watcher, 7)
            await client.revert(snap)  # head back to 3: blocks 4..7 gone
            await client.mine(1, interval_s=5)  # a different block 4
            events = await _collect(watcher, 4)
            rewinds = [(e.kind, e.resume_after) for e in events if isinstance(e, ChainRewound)]
            assert rewinds == [("reorg", 3)]
            assert [e.number for e in events if isinstance(e, BlockOrphaned)] == [7, 6, 5, 4]
            assert [e.block.number for e in events if isinstance(e, BlockProcessed)] == [4]
            await client.close()

    asyncio.run(go())


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_transactions_a_restarted_node_cannot_trace_are_reported_not_skipped(tmp_path: Path) -> None:
    """anvil restarted with --load-state keeps the blocks but cannot trace their transactions."""
    state, port = tmp_path / "state.json", _free_port()

    async def first_life(node: Anvil) -> tuple[int, list[str]]:
        async with ChainClient(node.http_url) as client:
            start = await client.block_number()
            return start, [await _send(client, node, v) for v in (5, 6)]

    async def second_life(node: Anvil, start: int, sent: list[str]) -> None:
        client, rpc = ChainClient(node.http_url), BatchRpc(node.http_url)
        store = MemoryCheckpointStore()
        start_hash = (await client.get_block(start)).hash
        store.save("s", Checkpoint(start, start_hash, ((start, start_hash),)))
        heads = HeadWatcher(client, store, "s", confirmations=0, poll_interval_s=0.02)
        service = DetectionService(client, Screener(rpc, [_value_monitor()]), heads=heads, trace_retry_s=0.01)
        out: list[Output] = []
        await asyncio.wait_for(service.run(out.append, until_block=start + 2), DEADLINE_S)
        unjudged = [o for o in out if isinstance(o, Unjudged)]
        assert [(u.tx_hash, u.block_number) for u in unjudged] == [(sent[0], start + 1), (sent[1], start + 2)]
        assert all("Resource not found" in u.reason for u in unjudged)
        assert store.load("s").block_number == start + 2  # type: ignore[union-attr]
        # A transaction mined after the restart is traceable again, and judged.
        fresh = await _send(client, node, 7)
        await asyncio.wait_for(service.run(out.append, until_block=start + 3), DEADLINE_S)
        assert [o.finding.tx_hash for o in out if isinstance(o, Raised)] == [fresh]
        await rpc.close()
        await client.close()

    with Anvil(AnvilOptions(port=port, dump_state=state)) as node:
        start, sent = asyncio.run(first_life(node))
    with Anvil(AnvilOptions(port=port, load_state=state)) as node:
        asyncio.run(second_life(node, start, sent))


def test_a_chain_id_change_stops_the_watcher_before_the_next_block() -> None:
    async def go() -> None:
        with Anvil(AnvilOptions()) as node:
            client = ChainClient(node.http_url)
            await client.mine(1)
            guard = ChainIdGuard(client, None, "local")  # pinned to what the node serves first
            watcher = HeadWatcher(
                client, MemoryCheckpointStore(), "c", confirmations=0, poll_interval_s=0.02, guard=guard
            )
            await _collect(watcher, 1)
            assert guard.expected == 31337
            await client.request("anvil_setChainId", [1])
            await client.mine(1)
            seen: list[HeadEvent] = []
            with pytest.raises(ChainIdMismatch, match="serves chain id 1, expected 31337"):

                async def drain() -> None:
                    async for e in watcher.events(until=2):
                        seen.append(e)

                await asyncio.wait_for(drain(), DEADLINE_S)
            assert not [e for e in seen if isinstance(e, BlockProcessed)]
            await client.close()

    asyncio.run(go())
