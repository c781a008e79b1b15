"""Only a pending transaction that moves value waits for the head (its outflow is judged against
the holdings of the block it runs on); any other is judged as soon as its trace is in, even when
the shared head question is slow to come back (it may ride in another screen's batch of traces)."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

from tests.unit.detect.drain_node import HELD, DrainNode, pool_monitor, withdrawal
from tests.unit.detect.synth import ATTACKER, LENDING, call

from bulwark.detect.screen import Screener
from bulwark.domain import Transaction, TxHash

POKE = bytes.fromhex("18178358")  # poke(): touches the pool, moves nothing


class SlowHeadNode(DrainNode):
    """The pool's node, whose answer to eth_blockNumber waits for ``answer`` once screening runs."""

    def __init__(self) -> None:
        super().__init__()
        self.screening = False
        self.answer = asyncio.Event()

    async def request(self, method: str, params: Sequence[Any]) -> Any:
        if method == "eth_blockNumber" and self.screening:
            await self.answer.wait()
            return hex(self.head + 1)
        if method == "debug_traceCall" and params[0]["input"][2:10] == POKE.hex():
            return call(ATTACKER, LENDING, "poke()")
        return await super().request(method, params)


def _poke() -> Transaction:
    return Transaction(TxHash("0x" + "0e" * 32), ATTACKER, LENDING, 0, POKE, 0, 100_000)


def test_a_transaction_that_moves_no_value_is_judged_without_the_head() -> None:
    async def run() -> list[Any]:
        node = SlowHeadNode()
        screener = Screener(node, [pool_monitor()])  # type: ignore[arg-type]
        await screener.refresh()
        node.screening = True
        try:
            return await asyncio.wait_for(screener.screen(_poke()), 10)  # the head never comes
        finally:
            node.answer.set()

    assert asyncio.run(run()) == []


def test_a_withdrawal_waits_for_the_head_and_is_judged_on_its_block() -> None:
    async def run() -> tuple[bool, list[Any], int]:
        node = SlowHeadNode()
        screener = Screener(node, [pool_monitor()])  # type: ignore[arg-type]
        await screener.refresh()
        node.screening = True
        task = asyncio.create_task(screener.screen(withdrawal(0, HELD // 2)))
        await asyncio.sleep(0.2)
        waited = not task.done()  # it cannot finish before the head is answered
        node.answer.set()
        findings = await asyncio.wait_for(task, 10)
        return waited, findings, screener.views[0].state.block_number

    waited, findings, block = asyncio.run(run())
    assert waited
    assert [f.detector for f in findings] == ["invariant-break"]
    assert block == 101  # caught up to the head the withdrawal runs on
