"""By default the batching transport sends what one turn of the event loop asked as one batch, and
a request asked in a later turn goes in the next batch (no timer holds it back for company)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import pytest
from tests.support.rpc_stub import ok_json, stub_node

from bulwark.chain.mempool import BatchRpc


@pytest.fixture
def node() -> Iterator[tuple[list[list[str]], str]]:
    posts: list[list[str]] = []  # the methods of each batch, as the node received them

    def answer(batch: list[dict[str, Any]]) -> tuple[int, bytes]:
        posts.append([b["method"] for b in batch])
        return ok_json([{"jsonrpc": "2.0", "id": b["id"], "result": "0x1"} for b in batch])

    with stub_node(answer) as address:
        yield posts, address


def test_one_turns_requests_share_a_batch_and_a_later_turns_go_in_the_next(
    node: tuple[list[list[str]], str],
) -> None:
    posts, url = node

    async def go() -> None:
        rpc = BatchRpc(url)
        try:
            first = [rpc.request(m, []) for m in ("eth_chainId", "eth_blockNumber", "eth_gasPrice")]
            await asyncio.gather(*first)  # all three started in one turn
            await rpc.request("net_version", [])  # alone, later
        finally:
            await rpc.close()

    asyncio.run(go())
    assert posts == [["eth_chainId", "eth_blockNumber", "eth_gasPrice"], ["net_version"]]
