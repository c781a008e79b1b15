"""A node that is down costs a few log lines, not one per retry (issue #16, item 8).

The head watcher and the mempool poller run against an endpoint that refuses every connection,
on a simulated clock (``asyncio.sleep`` advances it), for five simulated minutes: the outage is
said once when it starts, then once per 30 s, and once when the node answers again; retries back
off exponentially up to a cap instead of hammering the node.
"""

from __future__ import annotations

import asyncio
from collections.abc import MutableMapping, Sequence
from typing import Any

import pytest
from structlog.testing import capture_logs

from bulwark.chain import ChainClient, RetryPolicy, rpc
from bulwark.chain.client import Outage
from bulwark.chain.mempool import MempoolWatcher
from bulwark.chain.watchers import HeadWatcher, MemoryCheckpointStore


class Switchable:
    """Refuses every request while ``down``; answers a chain at block 0 with an empty pool after."""

    url = "http://fake"

    def __init__(self) -> None:
        self.down = True
        self.calls = 0

    async def request(self, method: str, params: Sequence[Any]) -> rpc.RpcResponse:
        self.calls += 1
        if self.down:
            raise rpc.TransportError("connection refused")
        answers: dict[str, Any] = {
            "eth_blockNumber": "0x0",
            "eth_chainId": "0x7a69",
            "txpool_content": {"pending": {}, "queued": {}},
        }
        return {"jsonrpc": "2.0", "id": 1, "result": answers[method]}

    async def close(self) -> None:
        pass


class Clock:
    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now


def test_an_outage_is_reported_once_per_interval_with_capped_backoff(monkeypatch: pytest.MonkeyPatch) -> None:
    clock = Clock()
    real_sleep = asyncio.sleep

    async def simulated_sleep(seconds: float, *args: Any) -> None:
        clock.sleeps.append(seconds)
        clock.now += seconds
        await real_sleep(0)

    monkeypatch.setattr(asyncio, "sleep", simulated_sleep)
    monkeypatch.setattr(rpc, "sleep", simulated_sleep)

    async def go() -> list[MutableMapping[str, Any]]:
        transport = Switchable()
        client = ChainClient("http://fake", transport=transport, retry=RetryPolicy(attempts=1))
        client.outage = Outage(client.display_url, clock=clock)
        heads = HeadWatcher(client, MemoryCheckpointStore(), "n", poll_interval_s=0.05)
        mempool = MempoolWatcher(client, mode="poll", poll_interval_s=0.05)

        async def drain_heads() -> None:
            async for _ in heads.events():
                pass

        async def drain_pool() -> None:
            async for _ in mempool.stream():
                pass

        with capture_logs() as logs:
            tasks = [asyncio.create_task(drain_heads()), asyncio.create_task(drain_pool())]
            while clock.now < 300:
                await real_sleep(0)
            down_calls = transport.calls
            transport.down = False
            clock.sleeps.clear()
            while len(clock.sleeps) < 20:  # both loops back to their poll interval
                await real_sleep(0)
            for t in tasks:
                t.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
        # Backed off: far fewer tries than 300 s of polling every 50 ms (12,000) would make.
        assert down_calls < 150
        return logs

    logs = asyncio.run(go())
    down = [e for e in logs if "unreachable" in e["event"]]
    assert down[0]["event"] == "rpc unreachable; retrying with backoff"
    # Once at the start, then once per 30 s of the 300 s outage.
    assert 5 <= len(down) <= 11, [e["event"] for e in down]
    assert all(e["event"].startswith("rpc unreachable for ") for e in down[1:])
    assert "retrying every 10.0s" in down[-1]["event"]  # the cap
    back = [e for e in logs if "reachable again" in e["event"]]
    assert len(back) == 1  # a warning too: the CLI shows warnings and up
    assert not [e for e in logs if e["log_level"] == "warning" and e not in down + back]


def test_outage_delay_grows_exponentially_and_is_capped() -> None:
    clock = Clock()
    outage = Outage("http://x", min_delay_s=0.1, max_delay_s=10.0, clock=clock)
    delays = []
    with capture_logs():
        for _ in range(40):
            delays.append(outage.failed("down"))
            clock.now += delays[-1]
    assert delays[0] == 0.1
    assert delays == sorted(delays)  # never shrinks while down
    assert max(delays) == 10.0
    assert delays[10] > 2 * delays[5]  # grows geometrically before the cap
    with capture_logs():
        assert outage.ok() is True
        assert outage.ok() is False  # said once
    assert outage.failed("down again") == 0.1  # a new outage starts over
