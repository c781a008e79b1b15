"""The transaction stream keeps messages by age, not as a work queue: acknowledgements (the
consumer's floor) say what is done, across a broker restart, and acknowledged messages are not
handed out again."""

from __future__ import annotations

import asyncio
import time

import pytest
from nats.js import api
from tests.support.nats_server import nats_server
from tests.support.nats_worker import NETWORK, make_tx

from bulwark.chain.bus import TX_STREAM, Bus, TxEnvelope

pytestmark = pytest.mark.e2e


def test_acknowledged_stay_done_across_a_restart_and_the_stream_keeps_them_by_age() -> None:
    async def publish_and_ack_some(url: str) -> tuple[set[str], api.StreamConfig]:
        # The consumer is created here with a short ack wait: what is left unacknowledged comes back.
        async with Bus(url, ack_wait_s=2.0, tx_retention_s=900.0) as bus:
            for i in range(6):
                await bus.publish_tx(TxEnvelope(NETWORK, make_tx(i), time.time()))
            sub = await bus.screen_subscription(NETWORK)
            msgs = await sub.fetch(6, timeout=5)
            assert len(msgs) == 6
            acked = set()
            for msg in msgs[:4]:
                await msg.ack_sync()
                acked.add(msg.data.decode())
            info = await bus.js.stream_info(TX_STREAM)
            return acked, info.config

    async def after_restart(url: str) -> tuple[list[str], int]:
        # The two left unacknowledged come back; the acknowledged never do.
        async with Bus(url, ack_wait_s=2.0) as bus:
            sub = await bus.screen_subscription(NETWORK)
            again: list[str] = []
            deadline = time.monotonic() + 60
            while len(again) < 2 and time.monotonic() < deadline:
                try:
                    msgs = await sub.fetch(6, timeout=2)
                except TimeoutError:
                    continue
                for msg in msgs:
                    again.append(msg.data.decode())
                    await msg.ack_sync()
            with pytest.raises(TimeoutError):  # nothing else is handed out
                await sub.fetch(1, timeout=1.5)
            kept = (await bus.js.stream_info(TX_STREAM)).state.messages
            return again, kept

    with nats_server() as server:
        acked, config = asyncio.run(publish_and_ack_some(server.url))
        assert config.retention == api.RetentionPolicy.LIMITS and config.max_age == 900.0
        server.restart()
        again, kept = asyncio.run(after_restart(server.url))
    assert len(again) == 2 and not set(again) & acked  # only the unacknowledged ones
    assert kept == 6  # acknowledged ones stay until they age out (the broker drops them in bulk)
