"""Watchers against a real anvil: no block lost across a restart, bounded recovery, reorgs
withdraw findings, the mempool stream deduplicates and survives a missing WebSocket."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest

from bulwark.chain import ChainClient
from bulwark.chain.mempool import BatchRpc, MempoolWatcher
from bulwark.chain.watchers import (
    BlockOrphaned,
    BlockProcessed,
    BlocksSkipped,
    FileCheckpointStore,
    HeadEvent,
    HeadWatcher,
    MemoryCheckpointStore,
)
from bulwark.config.models import RuleConfig
from bulwark.detect.builtins.rules import DeclarativeRules, RulesParams
from bulwark.detect.model import ContractInfo, ProtocolModel
from bulwark.detect.screen import Screener
from bulwark.detect.service import DetectionService, Output, Raised, Withdrawn
from bulwark.detect.setup import Monitor
from bulwark.domain import Address, Severity
from bulwark.toolchain.anvil import Anvil, AnvilOptions

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def node() -> Iterator[Anvil]:
    with Anvil(AnvilOptions()) as n:
        yield n


async def _collect(watcher: HeadWatcher, until: int) -> list[HeadEvent]:
    return [e async for e in watcher.events(until=until)]


async def _send_value(client: ChainClient, node: Anvil, value: int = 1) -> str:
    a = node.accounts
    return str(
        await client.request(
            "eth_sendTransaction", [{"from": a[0].address, "to": a[1].address, "value": hex(value)}]
        )
    )


def test_no_block_lost_across_restart_and_recovery_is_bounded(node: Anvil, tmp_path: Path) -> None:
    async def go() -> None:
        client = ChainClient(node.http_url)
        store = FileCheckpointStore(tmp_path)
        await client.mine(3)
        head = await client.block_number()
        first = HeadWatcher(client, store, "n", confirmations=1, poll_interval_s=0.05)
        events = await _collect(first, head - 1)
        seen = [e.block.number for e in events if isinstance(e, BlockProcessed)]
        assert seen == [head - 1]  # a fresh watcher starts at the confirmed head
        await client.mine(7)  # "downtime"
        second = HeadWatcher(client, store, "n", confirmations=1, poll_interval_s=0.05)
        events = await _collect(second, head + 6)
        seen = [e.block.number for e in events if isinstance(e, BlockProcessed)]
        assert seen == list(range(head, head + 7))  # resumed right after the checkpoint, no gap
        assert store.load("n") is not None and store.load("n").block_number == head + 6  # type: ignore[union-attr]
        await client.mine(30)
        third = HeadWatcher(client, store, "n", confirmations=1, max_past_blocks=10, poll_interval_s=0.05)
        events = await _collect(third, head + 36)
        skipped = [e for e in events if isinstance(e, BlocksSkipped)]
        assert skipped == [BlocksSkipped(head + 7, head + 26)]
        assert [e.block.number for e in events if isinstance(e, BlockProcessed)] == list(
            range(head + 27, head + 37)
        )
        await client.close()

    asyncio.run(go())


def _value_monitor() -> Monitor:
    dummy = Address("0x" + "11" * 20)
    proto = ProtocolModel("p", {dummy: ContractInfo("dummy", dummy, "generic")})
    rule = RuleConfig(name="value", when="tx", expr="tx.value > 0", severity=Severity.LOW)
    return Monitor("m", proto, (DeclarativeRules(RulesParams(rules=(rule,))),), cooldown_s=0, mempool=True)


def test_reorg_orphans_blocks_and_withdraws_their_findings(node: Anvil) -> None:
    async def go() -> None:
        client = ChainClient(node.http_url)
        rpc = BatchRpc(node.http_url)
        await client.mine(2)
        start = await client.block_number()
        heads = HeadWatcher(client, MemoryCheckpointStore(), "r", confirmations=0, poll_interval_s=0.05)
        service = DetectionService(client, Screener(rpc, [_value_monitor()]), heads=heads)
        out: list[Output] = []
        runner = asyncio.create_task(service.run(out.append))
        await _send_value(client, node, 5)  # automine: one block with one value transfer
        mined = await client.block_number()
        for _ in range(100):
            if any(isinstance(o, Raised) for o in out):
                break
            await asyncio.sleep(0.05)
        raised = [o for o in out if isinstance(o, Raised)]
        assert len(raised) == 1 and raised[0].finding.block_number == mined
        await client.reorg(mined - start)  # replace every block since start: the transfer is gone
        for _ in range(100):
            if any(isinstance(o, Withdrawn) for o in out):
                break
            await asyncio.sleep(0.05)
        runner.cancel()
        await asyncio.gather(runner, return_exceptions=True)
        withdrawn = [o for o in out if isinstance(o, Withdrawn)]
        assert [w.finding for w in withdrawn] == [raised[0].finding]
        assert "orphaned" in withdrawn[0].reason
        await rpc.close()
        await client.close()

    asyncio.run(go())


def test_reorg_seen_by_head_watcher(node: Anvil) -> None:
    async def go() -> None:
        client = ChainClient(node.http_url)
        await client.mine(1)
        head = await client.block_number()
        watcher = HeadWatcher(client, MemoryCheckpointStore(), "w", confirmations=0, poll_interval_s=0.05)
        await _collect(watcher, head)
        await client.mine(2)
        await _collect(watcher, head + 2)
        await client.reorg(2)
        events = await _collect(watcher, head + 2)
        orphaned = [e.number for e in events if isinstance(e, BlockOrphaned)]
        assert orphaned == [head + 2, head + 1]
        assert [e.block.number for e in events if isinstance(e, BlockProcessed)] == [head + 1, head + 2]
        await client.close()

    asyncio.run(go())


def test_mempool_subscription_dedup_and_polling_fallback() -> None:
    async def go() -> None:
        with Anvil(AnvilOptions(automine=False)) as n:
            client = ChainClient(n.http_url, ws_url=n.ws_url)
            watcher = MempoolWatcher(client, poll_interval_s=0.05)
            stream = watcher.stream()
            first = asyncio.create_task(stream.__anext__())
            await asyncio.sleep(0.3)
            sent = [await _send_value(client, n, v) for v in (1, 2, 3)]
            got = [await first] + [await asyncio.wait_for(stream.__anext__(), 5) for _ in range(2)]
            assert sorted(p.tx.hash for p in got) == sorted(sent)
            assert {p.source for p in got} == {"subscription"}
            # the same transactions seen by a poll are not yielded again
            assert await watcher._poll_once() == []
            await stream.aclose()
            # a WebSocket that is not there: the watcher polls instead and keeps going
            broken = ChainClient(n.http_url, ws_url="ws://127.0.0.1:9")
            fallback = MempoolWatcher(broken, poll_interval_s=0.05).stream()
            got2 = await asyncio.wait_for(fallback.__anext__(), 5)
            assert got2.source == "poll" and got2.tx.hash in sent
            await fallback.aclose()
            await client.close()
            await broken.close()

    asyncio.run(go())


def test_unreachable_rpc_keeps_retrying_without_crashing() -> None:
    async def go() -> None:
        client = ChainClient("http://127.0.0.1:9")
        watcher = HeadWatcher(client, MemoryCheckpointStore(), "x", poll_interval_s=0.01)
        task = asyncio.create_task(_collect(watcher, 10))
        await asyncio.sleep(0.5)
        assert not task.done()  # still trying, not crashed
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        await client.close()

    asyncio.run(go())
