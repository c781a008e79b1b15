"""The batching transport's JSON codec (msgspec, for speed) is exact where a faster codec could
round: integers beyond 64 bits in answers and in requests, non-ASCII text, and a body that is not
JSON is a transport failure (so reads are asked again), over a real loopback HTTP server."""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from bulwark.chain import rpc
from bulwark.chain.mempool import BatchRpc
from bulwark.errors import RpcUnreachable

BIG = 2**200 + 12345  # no 64-bit integer or float holds it


@pytest.fixture
def url() -> Iterator[str]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            batch = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            if batch[0]["method"] == "bad_json":
                payload = b"<html>not json</html>"
            else:  # echo each request's params back as its result, with a large number beside them
                out = [{"jsonrpc": "2.0", "id": b["id"], "result": [b["params"], BIG, "ünï"]} for b in batch]
                payload = json.dumps(out, ensure_ascii=False).encode()
            self.send_response(200)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, *_args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()
    server.server_close()
    thread.join()


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
