"""A thin synchronous face of the chain client, for code that cannot await (the seeded invariant
fuzz runs inside hypothesis, in a worker thread).

It owns a private event loop and one :class:`~bulwark.chain.client.ChainClient`, so every call
goes through the one transport: its retry allowlist (reads only), its error mapping, its URL
masking. Use it from one thread, never from inside a running event loop.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from types import TracebackType
from typing import Any

from bulwark.chain.client import ChainClient
from bulwark.chain.rpc import Transport

__all__ = ["SyncClient"]


class SyncClient:
    def __init__(self, url: str, *, timeout_s: float = 10.0, transport: Transport | None = None) -> None:
        self._loop = asyncio.new_event_loop()
        self.client = ChainClient(url, timeout_s=timeout_s, transport=transport)

    def request(self, method: str, params: Sequence[Any] = ()) -> Any:
        return self._loop.run_until_complete(self.client.request(method, params))

    def close(self) -> None:
        if self._loop.is_closed():
            return
        try:
            self._loop.run_until_complete(self.client.close())
        finally:
            self._loop.close()

    def __enter__(self) -> SyncClient:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()
