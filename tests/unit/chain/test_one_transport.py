"""The batching caller and the synchronous face go through the one chain client: the same retry
allowlist (reads only), the same masking, over a real loopback HTTP server that drops answers."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from typing import Any

import pytest
from tests.support.rpc_stub import ok_json, stub_node

from bulwark.chain import rpc
from bulwark.chain.mempool import BatchRpc, RpcCallError
from bulwark.chain.sync import SyncClient
from bulwark.errors import RpcUnreachable


class Node:
    """Answers JSON-RPC batches and single requests; the first ``fail`` POSTs get an HTTP 502."""

    def __init__(self) -> None:
        self.fail = 0
        self.posts: list[list[str]] = []  # the methods of each POST, in arrival order
        self.lock = threading.Lock()

    def answer(self, body: dict[str, Any]) -> dict[str, Any]:
        if body["method"] == "eth_unknown":
            return {
                "jsonrpc": "2.0",
                "id": body["id"],
                "error": {"code": -32601, "message": "no such method"},
            }
        return {"jsonrpc": "2.0", "id": body["id"], "result": "0x2a"}


@pytest.fixture
def node() -> Iterator[tuple[Node, str]]:
    state = Node()

    def answer(body: Any) -> tuple[int, bytes]:
        batch = body if isinstance(body, list) else [body]
        with state.lock:
            state.posts.append([b["method"] for b in batch])
            failing = state.fail > 0
            state.fail -= failing
        if failing:
            return 502, b"<html>bad gateway</html>"
        out = [state.answer(b) for b in batch]
        return ok_json(out if isinstance(body, list) else out[0])

    with stub_node(answer, "/v2/SECRETKEY77") as address:
        yield state, address


@pytest.fixture(autouse=True)
def no_backoff(monkeypatch: pytest.MonkeyPatch) -> None:
    async def instant(_seconds: float) -> None:
        return None

    monkeypatch.setattr(rpc, "sleep", instant)


def test_a_batched_read_lost_on_the_wire_is_asked_again(node: tuple[Node, str]) -> None:
    state, url = node
    state.fail = 1

    async def go() -> list[Any]:
        batch = BatchRpc(url, max_wait_s=0.05)
        try:
            return list(await asyncio.gather(*(batch.request("eth_blockNumber", []) for _ in range(3))))
        finally:
            await batch.close()

    assert asyncio.run(go()) == ["0x2a"] * 3
    assert state.posts[0] == ["eth_blockNumber"] * 3  # one batch, lost
    assert sum(len(p) for p in state.posts[1:]) == 3  # each read asked once more


def test_a_batched_write_lost_on_the_wire_is_not_resent(node: tuple[Node, str]) -> None:
    state, url = node
    state.fail = 5

    async def go() -> None:
        batch = BatchRpc(url)
        try:
            await batch.request("eth_sendRawTransaction", ["0x02"])
        finally:
            await batch.close()

    with pytest.raises(RpcUnreachable) as info:
        asyncio.run(go())
    assert state.posts == [["eth_sendRawTransaction"]]
    assert "SECRETKEY77" not in info.value.user_message


def test_an_error_answer_fails_only_its_own_request(node: tuple[Node, str]) -> None:
    _, url = node

    async def go() -> tuple[Any, BaseException | Any]:
        batch = BatchRpc(url, max_wait_s=0.05)
        try:
            ok, bad = await asyncio.gather(
                batch.request("eth_blockNumber", []), batch.request("eth_unknown", []), return_exceptions=True
            )
            return ok, bad
        finally:
            await batch.close()

    ok, bad = asyncio.run(go())
    assert ok == "0x2a" and isinstance(bad, RpcCallError) and "no such method" in str(bad)


def test_the_synchronous_face_retries_reads_and_not_writes(node: tuple[Node, str]) -> None:
    state, url = node
    with SyncClient(url) as client:
        state.fail = 2
        assert client.request("eth_call", [{"to": "0x" + "00" * 20}, "latest"]) == "0x2a"
        assert [p[0] for p in state.posts] == ["eth_call"] * 3
        state.fail = 1
        with pytest.raises(RpcUnreachable):
            client.request("eth_sendTransaction", [{}])
        assert [p[0] for p in state.posts[3:]] == ["eth_sendTransaction"]
