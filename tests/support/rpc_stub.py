"""A stand-in JSON-RPC node on a loopback port, for transport tests: ``answer`` turns each POSTed
body (a batch or a single request, parsed) into (HTTP status, response bytes)."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

Answer = Callable[[Any], tuple[int, bytes]]


def ok_json(value: Any, **dumps: Any) -> tuple[int, bytes]:
    return 200, json.dumps(value, **dumps).encode()


@contextmanager
def stub_node(answer: Answer, path: str = "/") -> Iterator[str]:
    """Serve ``answer`` until the block ends; yields the node's URL (``path`` appended)."""

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            code, payload = answer(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
            self.send_response(code)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, *_args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)  # bound (and listening) on return
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}{path}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
