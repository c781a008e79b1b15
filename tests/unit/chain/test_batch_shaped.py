"""A request whose last parameter is ``Shaped`` has its answer decoded straight into that shape by
the batching transport (no dicts built for a trace's frames); the other requests of the same
batch, an answer that does not fit the shape and an error answer behave as for plain requests.
Over a real loopback HTTP server."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import msgspec
import pytest
from tests.support.rpc_stub import ok_json, stub_node

from bulwark.chain.mempool import BatchRpc, RpcCallError
from bulwark.chain.rpc import Shaped


class Frame(msgspec.Struct):
    type: str
    sender: str = msgspec.field(name="from")
    calls: list[Frame] = []


TRACE = {"type": "CALL", "from": "0xaa", "gas": "0x1", "calls": [{"type": "STATICCALL", "from": "0xbb"}]}


def _answer(b: dict[str, Any]) -> dict[str, Any]:
    if b["method"] == "debug_traceCall":
        return {"jsonrpc": "2.0", "id": b["id"], "result": TRACE}
    if b["method"] == "debug_nothing":
        return {"jsonrpc": "2.0", "id": b["id"], "result": None}
    if b["method"] == "debug_refused":
        return {"jsonrpc": "2.0", "id": b["id"], "error": {"code": -32000, "message": "no"}}
    return {"jsonrpc": "2.0", "id": b["id"], "result": {"from": "0xcc"}}


@pytest.fixture
def url() -> Iterator[tuple[list[Any], str]]:
    seen: list[Any] = []  # every request body, as the node received it

    def answer(batch: list[dict[str, Any]]) -> tuple[int, bytes]:
        seen.extend(batch)
        return ok_json([_answer(b) for b in batch])

    with stub_node(answer) as address:
        yield seen, address


def test_a_shaped_answer_is_decoded_into_its_shape_beside_plain_ones(url: tuple[list[Any], str]) -> None:
    seen, address = url
    cfg = Shaped(Frame, {"tracer": "callTracer"})

    async def go() -> list[Any]:
        batch = BatchRpc(address, max_wait_s=0.05)  # the three share one batch
        try:
            return list(
                await asyncio.gather(
                    batch.request("debug_traceCall", [{"to": "0x1"}, "latest", cfg]),
                    batch.request("eth_call", [{"to": "0x1"}, "latest"]),
                    batch.request("debug_nothing", ["latest", cfg]),
                )
            )
        finally:
            await batch.close()

    traced, plain, nothing = asyncio.run(go())
    assert traced == Frame("CALL", "0xaa", [Frame("STATICCALL", "0xbb")])
    assert plain == {"from": "0xcc"}  # not shaped: plain JSON
    assert nothing is None  # does not fit the shape: handed back as plain JSON for the reader to judge
    assert [b["params"][-1] for b in seen if b["method"] != "eth_call"] == [{"tracer": "callTracer"}] * 2


def test_an_error_answer_to_a_shaped_request_is_an_error(url: tuple[list[Any], str]) -> None:
    _, address = url

    async def go() -> None:
        batch = BatchRpc(address)
        try:
            await batch.request("debug_refused", [Shaped(Frame, {"tracer": "callTracer"})])
        finally:
            await batch.close()

    with pytest.raises(RpcCallError, match="debug_refused failed: no"):
        asyncio.run(go())
