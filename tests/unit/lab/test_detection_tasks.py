"""The lab's detection background tasks (quiet mining, state refresh, the service) never die
silently and never leave a wait unbounded: a transient ChainError is retried, a task that dies is
reported by stop(), and automine always ends up on. A fake node stands in for anvil here; the real
one is exercised in tests/e2e/flow/test_protect_full.py."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Callable, Coroutine
from types import SimpleNamespace
from typing import Any, cast

import pytest

from bulwark.detect.model import ProtocolModel
from bulwark.detect.service import Raised
from bulwark.detect.setup import Monitor
from bulwark.domain import Action, Address, Confidence, Finding, Severity, TxHash, VulnClass
from bulwark.errors import ChainError, ScenarioError
from bulwark.lab.protect import Detection

# Generous: conditions are waited on, never timed; these bound a broken run only.
WAIT_S = 20.0


class FakeNode:
    """What the miner sees of anvil: a pool, automine, ``anvil_mine``; ``fail`` maps a method to
    the exceptions its next calls raise (one per call)."""

    def __init__(self, pending: int = 1, fail: dict[str, list[Exception]] | None = None) -> None:
        self.pending = pending
        self.automine = True
        self.mined = 0
        self.fail = fail or {}
        self.calls: list[str] = []
        self.mined_once = asyncio.Event()
        self.automine_back_on = asyncio.Event()

    def _maybe_fail(self, method: str) -> None:
        self.calls.append(method)
        queue = self.fail.get(method)
        if queue:
            raise queue.pop(0)

    async def request(self, method: str, params: Any = ()) -> Any:
        self._maybe_fail(method)
        if method == "txpool_status":
            return {"pending": hex(self.pending), "queued": "0x0"}
        if method == "anvil_getAutomine":
            return self.automine
        raise AssertionError(f"unexpected {method}")

    async def set_automine(self, enabled: bool) -> None:
        self._maybe_fail(f"set_automine({enabled})")
        self.automine = enabled
        if enabled:
            self.automine_back_on.set()

    async def mine(self, blocks: int = 1) -> None:
        self._maybe_fail("mine")
        self.pending, self.mined = 0, self.mined + 1
        self.mined_once.set()

    async def block_number(self) -> int:
        self._maybe_fail("block_number")
        return 7 + self.mined

    async def close(self) -> None:
        pass


def detection(node: FakeNode, **kwargs: Any) -> Detection:
    d = Detection(cast(Any, SimpleNamespace(http_url="http://fake", ws_url=None)), cast(Any, None), **kwargs)
    d._client = cast(Any, node)
    return d


def run(body: Callable[[], Coroutine[Any, Any, None]]) -> None:
    asyncio.run(asyncio.wait_for(body(), 60))


def transient(method: str) -> ChainError:
    return ChainError(f"{method} failed on http://fake: request timed out")


@pytest.mark.parametrize("method", ["txpool_status", "mine", "set_automine(False)"])
def test_quiet_mining_retries_a_transient_chain_error(method: str) -> None:
    async def body() -> None:
        node = FakeNode(fail={method: [transient(method)]})
        d = detection(node, quiet_s=0.0)
        d.start_mining()
        await asyncio.wait_for(node.mined_once.wait(), WAIT_S)  # mining went on after the failure
        assert not node.automine
        await d.stop()  # nothing to report: the failure was transient
        assert node.automine

    run(body)


def test_a_miner_that_dies_switches_automine_back_on_and_stop_reports_it() -> None:
    async def body() -> None:
        node = FakeNode(fail={"mine": [RuntimeError("anvil_mine answered garbage")]})
        d = detection(node, quiet_s=0.0)
        d.start_mining()
        # Dead, it leaves the chain mining: a receipt waited for meanwhile still comes.
        await asyncio.wait_for(node.automine_back_on.wait(), WAIT_S)
        with pytest.raises(ScenarioError, match=r"quiet-mining: RuntimeError: anvil_mine answered garbage"):
            await d.stop()
        assert node.automine

    run(body)


def test_a_miner_facing_a_node_that_keeps_failing_gives_up_and_stop_reports_it() -> None:
    async def body() -> None:
        node = FakeNode(fail={"txpool_status": [transient("txpool_status") for _ in range(10_000)]})
        d = detection(node, quiet_s=0.0, give_up_s=0.3)
        d.start_mining()
        await asyncio.wait_for(node.automine_back_on.wait(), WAIT_S)
        with pytest.raises(ScenarioError, match=r"quiet mining gave up after 0.3 s of failures"):
            await d.stop()

    run(body)


def test_the_state_refresh_loop_retries_a_transient_chain_error() -> None:
    async def body() -> None:
        node = FakeNode(fail={"block_number": [transient("eth_blockNumber")]})
        refreshed = asyncio.Event()

        class Screener:
            async def refresh(self, head: int) -> None:
                refreshed.set()

        d = detection(node)
        d.screener = cast(Any, Screener())
        d._tasks.append(asyncio.create_task(d._refresh_loop(), name="state-refresh"))
        await asyncio.wait_for(refreshed.wait(), WAIT_S)
        await d.stop()

    run(body)


def test_stop_switches_automine_back_on_through_a_transient_failure() -> None:
    async def body() -> None:
        node = FakeNode(pending=0, fail={"set_automine(True)": [transient("evm_setAutomine")]})
        node.automine = False
        d = detection(node)
        await d.stop()
        assert node.automine
        assert node.calls.count("set_automine(True)") == 2

    run(body)


def test_stop_is_bounded_when_a_task_ignores_its_cancellation() -> None:
    async def body() -> None:
        node = FakeNode(pending=0)
        d = detection(node, stop_timeout_s=0.2)

        async def stubborn() -> None:
            try:
                await asyncio.sleep(3600)
            except asyncio.CancelledError:
                await asyncio.sleep(3600)  # ignores the first cancellation; the second ends it

        d.spawn("stubborn", stubborn())
        await asyncio.sleep(0)
        with pytest.raises(ScenarioError, match=r"stubborn: did not stop within 0.2 s"):
            await d.stop()
        assert node.automine

    run(body)


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_start_fails_in_one_line_when_the_mempool_is_never_watched() -> None:
    """A node that answers nothing (no WebSocket, no txpool): start() says so instead of letting
    the run go on unwatched; its tasks are stopped."""

    async def body() -> None:
        port = _closed_port()
        node = SimpleNamespace(http_url=f"http://127.0.0.1:{port}", ws_url=f"ws://127.0.0.1:{port}")
        monitor = Monitor("m", ProtocolModel("p", {}), (), cooldown_s=0, mempool=True)
        d = Detection(cast(Any, node), monitor, ready_timeout_s=1.0, give_up_s=0.2)
        with pytest.raises(ScenarioError, match=r"detection did not start") as err:
            await d.start()
        assert "\n" not in err.value.user_message
        assert all(t.done() for t in d._tasks)

    run(body)


def test_a_failed_inclusion_check_keeps_the_finding() -> None:
    """The sink runs inside the detection service's screening task: an exception there would
    drop the finding silently. An unknown inclusion is recorded as not before inclusion."""

    async def body() -> None:
        node = FakeNode(pending=0)

        async def get_receipt(tx_hash: TxHash) -> None:
            raise transient("eth_getTransactionReceipt")

        node.get_receipt = get_receipt  # type: ignore[attr-defined]
        d = detection(node)
        finding = Finding(
            "oracle",
            VulnClass.ORACLE_MANIPULATION,
            Severity.CRITICAL,
            Confidence.HIGH,
            "spot price moved",
            "scenario",
            Address("0x" + "11" * 20),
            TxHash("0x" + "ab" * 32),
            True,
            action=Action.PAUSE,
        )
        await d._sink(Raised(finding, 1.5))
        assert [(s.finding, s.before_inclusion) for s in d.seen] == [(finding, False)]
        await d.stop()

    run(body)
