"""A request whose last parameter is ``Shaped`` has its answer decoded straight into that shape by
the batching transport (no dicts built for a trace's frames); the other requests of the same
batch, an answer that does not fit the shape and an error answer behave as for plain requests.
Over a real loopback HTTP server."""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import msgspec
import pytest

from bulwark.chain.mempool import BatchRpc, RpcCallError
from bulwark.chain.rpc import Shaped


class Frame(msgspec.Struct):
    type: str
    sender: str = msgspec.field(name="from")
    calls: list[Frame] = []


TRACE = {"type": "CALL", "from": "0xaa", "gas": "0x1", "calls": [{"type": "STATICCALL", "from": "0xbb"}]}


@pytest.fixture
def url() -> Iterator[tuple[list[Any], str]]:
    seen: list[Any] = []  # every request body, as the node received it

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            batch = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            seen.extend(batch)
            out: list[dict[str, Any]] = []
            for b in batch:
                if b["method"] == "debug_traceCall":
                    out.append({"jsonrpc": "2.0", "id": b["id"], "result": TRACE})
                elif b["method"] == "debug_nothing":
                    out.append({"jsonrpc": "2.0", "id": b["id"], "result": None})
                elif b["method"] == "debug_refused":
                    out.append({"jsonrpc": "2.0", "id": b["id"], "error": {"code": -32000, "message": "no"}})
                else:
                    out.append({"jsonrpc": "2.0", "id": b["id"], "result": {"from": "0xcc"}})
            payload = json.dumps(out).encode()
            self.send_response(200)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, *_args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield seen, f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()
    server.server_close()
    thread.join()


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
