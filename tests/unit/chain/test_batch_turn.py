"""By default the batching transport sends what one turn of the event loop asked as one batch, and
a request asked in a later turn goes in the next batch (no timer holds it back for company)."""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from bulwark.chain.mempool import BatchRpc


@pytest.fixture
def node() -> Iterator[tuple[list[list[str]], str]]:
    posts: list[list[str]] = []  # the methods of each batch, as the node received them

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            batch = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            posts.append([b["method"] for b in batch])
            payload = json.dumps([{"jsonrpc": "2.0", "id": b["id"], "result": "0x1"} for b in batch]).encode()
            self.send_response(200)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, *_args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield posts, f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()
    server.server_close()
    thread.join()


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
