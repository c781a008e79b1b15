"""The eth_subscribe stream against a small WebSocket server standing in for the node: only this
subscription's notifications are converted, a refusal and a dropped socket are one-line errors."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from websockets.asyncio.server import ServerConnection, serve

from bulwark.chain.client import Subscription
from bulwark.errors import ChainError, RpcUnreachable

Handler = Callable[[ServerConnection], Awaitable[None]]


async def _with_server(handler: Handler, body: Callable[[str], Awaitable[Any]]) -> Any:
    async with serve(handler, "127.0.0.1", 0) as server:
        port = next(iter(server.sockets)).getsockname()[1]
        return await body(f"ws://127.0.0.1:{port}")


def _notification(sub: str, result: Any) -> str:
    params = {"subscription": sub, "result": result}
    return json.dumps({"jsonrpc": "2.0", "method": "eth_subscription", "params": params})


def test_only_this_subscriptions_notifications_are_converted() -> None:
    async def node(ws: ServerConnection) -> None:
        request = json.loads(await ws.recv())
        assert request["method"] == "eth_subscribe" and request["params"] == ["newHeads"]
        await ws.send(json.dumps({"jsonrpc": "2.0", "id": request["id"], "result": "0xaa"}))
        await ws.send(_notification("0xbb", "other"))  # another subscription's: skipped
        await ws.send(_notification("0xaa", "0x10"))
        await ws.wait_closed()

    async def body(url: str) -> list[int]:
        async with Subscription(url, ("newHeads",), lambda r: int(r, 16)) as sub:
            assert sub.subscription_id == "0xaa"
            return [await sub.__anext__()]

    assert asyncio.run(_with_server(node, body)) == [16]


def test_a_refused_subscription_is_a_one_line_error() -> None:
    async def node(ws: ServerConnection) -> None:
        request = json.loads(await ws.recv())
        error = {"code": -32601, "message": "subscription not supported"}
        await ws.send(json.dumps({"jsonrpc": "2.0", "id": request["id"], "error": error}))
        await ws.wait_closed()

    async def body(url: str) -> None:
        async with Subscription(url, ("newPendingTransactions", True), str):
            pass

    with pytest.raises(ChainError, match=r"refused eth_subscribe.*not supported") as caught:
        asyncio.run(_with_server(node, body))
    assert "\n" not in caught.value.user_message


def test_a_dropped_socket_ends_the_stream_with_a_chain_error() -> None:
    async def node(ws: ServerConnection) -> None:
        request = json.loads(await ws.recv())
        await ws.send(json.dumps({"jsonrpc": "2.0", "id": request["id"], "result": "0xaa"}))
        await ws.close()

    async def body(url: str) -> None:
        async with Subscription(url, ("newHeads",), str) as sub:
            await sub.__anext__()

    with pytest.raises(ChainError, match="WebSocket closed"):
        asyncio.run(_with_server(node, body))


def test_nothing_listening_is_unreachable() -> None:
    async def body() -> None:
        async with Subscription("ws://127.0.0.1:9", ("newHeads",), str):
            pass

    with pytest.raises(RpcUnreachable, match="cannot open a WebSocket"):
        asyncio.run(body())
