"""The batching transport's JSON codec (msgspec, for speed) is exact where a faster codec could
round: integers beyond 64 bits in answers and in requests, non-ASCII text, and a body that is not
JSON is a transport failure (so reads are asked again), over a real loopback HTTP server."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import pytest
from tests.support.rpc_stub import ok_json, stub_node

from bulwark.chain import rpc
from bulwark.chain.mempool import BatchRpc
from bulwark.errors import RpcUnreachable

BIG = 2**200 + 12345  # no 64-bit integer or float holds it


@pytest.fixture
def url() -> Iterator[str]:
    def answer(batch: list[dict[str, Any]]) -> tuple[int, bytes]:
        if batch[0]["method"] == "bad_json":
            return 200, b"<html>not json</html>"
        # echo each request's params back as its result, with a large number beside them
        out = [{"jsonrpc": "2.0", "id": b["id"], "result": [b["params"], BIG, "ünï"]} for b in batch]
        return ok_json(out, ensure_ascii=False)

    with stub_node(answer) as address:
        yield address


def test_large_integers_and_text_cross_the_batch_exactly(url: str) -> None:
    async def go() -> list[Any]:
        batch = BatchRpc(url, max_wait_s=0.05)
        try:
            return list(
                await asyncio.gather(
                    batch.request("eth_call", [{"value": BIG, "note": "ø"}]),
                    batch.request("eth_call", [-BIG]),
                )
            )
        finally:
            await batch.close()

    first, second = asyncio.run(go())
    assert first == [[{"value": BIG, "note": "ø"}], BIG, "ünï"]
    assert second == [[-BIG], BIG, "ünï"]
    assert isinstance(first[1], int)


def test_an_answer_that_is_not_json_fails_on_the_wire(url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    async def instant(_seconds: float) -> None:
        return None

    monkeypatch.setattr(rpc, "sleep", instant)

    async def go() -> None:
        batch = BatchRpc(url)
        try:
            await batch.request("bad_json", [])
        finally:
            await batch.close()

    with pytest.raises(RpcUnreachable, match="bad_json"):
        asyncio.run(go())
