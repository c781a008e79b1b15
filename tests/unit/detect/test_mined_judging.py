"""A mined block is done only when each of its transactions is judged or reported (issue #16, item 2).

The node here is a fake that fails on cue: an unreachable node is waited for (the transaction is
owed, however long the outage), a trace the node refuses is retried with backoff and then reported
as not judgeable, and a block that left the chain meanwhile is dropped without a false report.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from structlog.testing import capture_logs

from bulwark.chain.client import Outage
from bulwark.detect.screen import SimulationFailed
from bulwark.detect.service import DetectionService, Output, Raised, Unjudged
from bulwark.domain import (
    Address,
    Block,
    Confidence,
    Finding,
    Hash32,
    Severity,
    Transaction,
    TxHash,
    VulnClass,
)
from bulwark.errors import ChainError, RpcUnreachable

H = Hash32("0x" + "aa" * 32)
TXS = tuple(
    Transaction(TxHash("0x" + f"{i:02x}" * 32), Address("0x" + "01" * 20), None, 7, b"", i, 21000)
    for i in (1, 2)
)
BLOCK = Block(5, H, Hash32("0x" + "bb" * 32), 0, tx_hashes=tuple(t.hash for t in TXS))


class FakeClient:
    def __init__(self) -> None:
        self.outage = Outage("fake", min_delay_s=0.0, max_delay_s=0.0)
        self.block_fetches = 0
        self.gone = False

    async def get_block(self, block: Any, *, full: bool = False) -> Block:
        self.block_fetches += 1
        if self.gone:
            raise ChainError(f"block {block} does not exist")
        if self.block_fetches == 1:
            raise RpcUnreachable("connection refused")  # the node restarts under us
        return Block(BLOCK.number, BLOCK.hash, BLOCK.parent_hash, 0, transactions=TXS)

    async def block_number(self) -> int:
        return 5


class FakeHeads:
    """What the service asks the head watcher: is the block still canonical, any guard."""

    guard = None

    def __init__(self, client: FakeClient) -> None:
        self.client = client

    async def gone(self, block: Block) -> bool:
        return self.client.gone


class FakeScreener:
    """Per transaction, a script of what each trace attempt does: an exception, or findings."""

    def __init__(self, script: dict[str, list[BaseException | None]]) -> None:
        self.script = script
        self.calls: dict[str, int] = {}

    async def refresh(self, block_number: int = 0) -> None:
        return None

    def announce(self, finding: Finding) -> bool:
        return True

    async def judge_mined(self, tx: Transaction, block_number: int, block_hash: Hash32) -> list[Finding]:
        self.calls[tx.hash] = self.calls.get(tx.hash, 0) + 1
        steps = self.script[tx.hash]
        step = steps.pop(0) if steps else None
        if step is not None:
            raise step
        return [_finding(tx, block_number)]


def _finding(tx: Transaction, block: int) -> Finding:
    return Finding(
        detector="rule:value",
        vuln_class=VulnClass.ACCESS_CONTROL,
        severity=Severity.HIGH,
        confidence=Confidence.HIGH,
        title="t",
        protocol="p",
        contract=None,
        tx_hash=tx.hash,
        pending=False,
        block_number=block,
    )


def _service(client: FakeClient, screener: FakeScreener) -> DetectionService:
    service = DetectionService(client, screener, trace_attempts=3, trace_retry_s=0.0)  # type: ignore[arg-type]
    service.heads = FakeHeads(client)  # type: ignore[assignment]
    return service


def test_an_outage_is_waited_for_and_a_refused_trace_is_retried_then_reported() -> None:
    refused = SimulationFailed("debug_traceTransaction failed: Resource not found")
    down = RpcUnreachable("connection refused")
    screener = FakeScreener({TXS[0].hash: [down] * 10, TXS[1].hash: [refused] * 3})
    client = FakeClient()
    out: list[Output] = []
    with capture_logs() as logs:
        asyncio.run(_service(client, screener)._process_block(BLOCK, None, out.append))
    # tx 1: ten unreachable answers are not the transaction's fault: judged on the 11th try.
    assert screener.calls[TXS[0].hash] == 11
    assert [o.finding.tx_hash for o in out if isinstance(o, Raised)] == [TXS[0].hash]
    # tx 2: refused three times (the attempts allowed), then reported, loudly.
    assert screener.calls[TXS[1].hash] == 3
    unjudged = [o for o in out if isinstance(o, Unjudged)]
    assert [(u.tx_hash, u.block_number, u.block_hash) for u in unjudged] == [(TXS[1].hash, 5, H)]
    assert "Resource not found" in unjudged[0].reason
    assert [e["event"] for e in logs if e["log_level"] == "error"] == ["mined transaction NOT JUDGED"]


def test_a_trace_that_recovers_within_the_retries_is_judged() -> None:
    flaky = SimulationFailed("debug_traceTransaction failed: header not found")
    screener = FakeScreener({TXS[0].hash: [flaky, flaky], TXS[1].hash: []})
    out: list[Output] = []
    asyncio.run(_service(FakeClient(), screener)._process_block(BLOCK, None, out.append))
    assert [o.finding.tx_hash for o in out if isinstance(o, Raised)] == [TXS[0].hash, TXS[1].hash]
    assert not [o for o in out if isinstance(o, Unjudged)]


@pytest.mark.parametrize("when", ["before", "during"])
def test_a_block_that_left_the_chain_is_not_reported_as_unjudged(when: str) -> None:
    client = FakeClient()
    client.block_fetches = 1  # no outage in this one
    refused = SimulationFailed("debug_traceTransaction failed: transaction not found")
    screener = FakeScreener({TXS[0].hash: [refused] * 3, TXS[1].hash: []})
    client.gone = when == "before"
    service = _service(client, screener)

    async def go() -> list[Output]:
        out: list[Output] = []

        def sink(item: Output) -> None:
            out.append(item)

        if when == "during":
            original = screener.judge_mined

            async def vanish(tx: Transaction, n: int, h: Hash32) -> list[Finding]:
                client.gone = True  # reorged away while its first transaction was traced
                return await original(tx, n, h)

            screener.judge_mined = vanish  # type: ignore[method-assign,assignment]
        await service._process_block(BLOCK, None, sink)
        return out

    assert asyncio.run(go()) == []  # nothing judged, nothing falsely reported: the watcher orphans it
