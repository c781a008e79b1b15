"""Pending transactions: a deduplicated stream over WebSocket ``newPendingTransactions`` (full
transactions) that falls back to polling ``txpool_content`` when subscriptions are unavailable or
the socket drops, and a micro-batching JSON-RPC caller for screening them fast.

Screening every pending transaction means one ``debug_traceCall`` each; one HTTP request per trace
caps out near 600/s on this machine, while a JSON-RPC batch of tens reaches several thousand, so
:class:`BatchRpc` gathers concurrent requests for a moment and sends them as one batch.
"""

from __future__ import annotations

import asyncio
import collections
import time
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from bulwark.chain.client import ChainClient
from bulwark.chain.rpc import BatchTransport, RpcErrorObject, redact_url
from bulwark.domain import Transaction
from bulwark.errors import ChainError, RpcUnreachable
from bulwark.logs import get_logger

log = get_logger(__name__)


class RpcCallError(ChainError):
    """One request of a batch failed (the others may have succeeded)."""

    def __init__(self, method: str, error: Any) -> None:
        message = error.get("message") if isinstance(error, dict) else str(error)
        super().__init__(f"{method} failed: {message}")
        self.error = error


class BatchRpc(ChainClient):
    """The chain client over a batching transport (:class:`~bulwark.chain.rpc.BatchTransport`):
    concurrent requests go out as one JSON-RPC batch. Reads are retried like any client's; an
    error answer is an :class:`RpcCallError` (the other requests of its batch are unaffected)."""

    def __init__(self, url: str, *, max_batch: int = 32, max_wait_s: float = 0.0, timeout_s: float = 10.0):
        self.url = url
        transport = BatchTransport(url, max_batch=max_batch, max_wait_s=max_wait_s, timeout_s=timeout_s)
        super().__init__(url, timeout_s=timeout_s, transport=transport)

    def __repr__(self) -> str:
        return f"BatchRpc({redact_url(self.url)})"

    def _rpc_error(self, method: str, error: RpcErrorObject) -> ChainError:
        return RpcCallError(method, error)


class SeenSet:
    """Bounded memory of transaction hashes (oldest forgotten first)."""

    def __init__(self, capacity: int = 200_000) -> None:
        self.capacity = capacity
        self._items: collections.OrderedDict[str, None] = collections.OrderedDict()

    def add(self, key: str) -> bool:
        """True when ``key`` is new."""
        if key in self._items:
            return False
        self._items[key] = None
        if len(self._items) > self.capacity:
            self._items.popitem(last=False)
        return True

    def __contains__(self, key: object) -> bool:
        return key in self._items

    def __len__(self) -> int:
        return len(self._items)


@dataclass(frozen=True, slots=True)
class PendingTx:
    """A pending transaction and when we first saw it (``time.perf_counter()``)."""

    tx: Transaction
    seen_at: float
    source: Literal["subscription", "poll"]


class MempoolWatcher:
    """Yields each pending transaction once, as early as possible.

    ``mode="subscribe"`` uses the WebSocket and, whenever it cannot (no URL, refused, dropped),
    polls ``txpool_content`` and retries the socket with backoff; after a reconnect it polls once to
    backfill what arrived while the socket was down. ``mode="poll"`` only polls.
    """

    def __init__(
        self,
        client: ChainClient,
        *,
        mode: Literal["subscribe", "poll"] = "subscribe",
        poll_interval_s: float = 0.25,
        reconnect_max_s: float = 10.0,
        seen: SeenSet | None = None,
    ) -> None:
        self.client = client
        self.mode = mode
        self.poll_interval_s = poll_interval_s
        self.reconnect_max_s = reconnect_max_s
        self.seen = seen or SeenSet()
        self.reconnects = 0
        self.polls = 0
        self._wait = poll_interval_s  # until the next poll: longer while the endpoint is down
        self._poll_ok = True  # the last poll reached the node
        # Set once the node's pool was first read (the backfill right after the subscription
        # opened, or a poll while the socket is down): from then on nothing that enters it is missed.
        self.watching = asyncio.Event()

    def _fresh(self, txs: Sequence[Transaction], source: Literal["subscription", "poll"]) -> list[PendingTx]:
        now = time.perf_counter()
        return [PendingTx(tx, now, source) for tx in txs if self.seen.add(tx.hash)]

    async def _poll_once(self) -> list[PendingTx]:
        self.polls += 1
        self._poll_ok = False
        try:
            fresh = self._fresh(await self.client.pending_transactions(), "poll")
        except RpcUnreachable as exc:
            # Reported once per interval through the endpoint's outage, not once per poll.
            self._wait = self.client.outage.failed(exc.user_message)
            return []
        except ChainError as exc:
            log.warning("mempool poll failed; will retry", error=exc.user_message)
            self._wait = self.poll_interval_s
            return []
        self.client.outage.ok()
        self._poll_ok = True
        self.watching.set()
        self._wait = self.poll_interval_s
        return fresh

    async def stream(self) -> AsyncIterator[PendingTx]:
        backoff = 0.5
        carry: list[PendingTx] = []  # polled while away, handed on once the socket is back
        while True:
            if self.mode == "subscribe" and self.client.ws_url:
                try:
                    async with self.client.subscribe_pending_transactions() as sub:
                        backoff = 0.5
                        # Backfill what we missed while away (the socket is open first: whatever
                        # enters the pool from here on comes by it).
                        for item in [*carry, *await self._poll_once()]:
                            yield item
                        carry = []
                        async for tx in sub:
                            if self.seen.add(tx.hash):
                                yield PendingTx(tx, time.perf_counter(), "subscription")
                except RpcUnreachable as exc:
                    self.client.outage.failed(exc.user_message)
                except (ChainError, OSError, ConnectionError, TimeoutError) as exc:
                    log.warning("pending-transaction subscription lost; polling meanwhile", error=str(exc))
                except Exception as exc:  # a websocket error outside those: keep watching by polls
                    log.warning("pending-transaction subscription failed; polling meanwhile", error=repr(exc))
                self.reconnects += 1
                for item in carry:
                    yield item
                carry = []
                deadline = time.monotonic() + backoff
                backoff = min(backoff * 2, self.reconnect_max_s)
                down = not self._poll_ok  # the node did not answer the last poll either
                while time.monotonic() < deadline:
                    fresh = await self._poll_once()
                    if down and self._poll_ok:
                        # The node answers again: subscribe now rather than at the end of the
                        # backoff, so what enters the pool from here on arrives by the socket.
                        carry = fresh
                        break
                    down = down or not self._poll_ok
                    for item in fresh:
                        yield item
                    await asyncio.sleep(self._wait)
            else:
                for item in await self._poll_once():
                    yield item
                await asyncio.sleep(self._wait)


def tx_request(tx: Transaction) -> dict[str, Any]:
    """The call object that re-plays ``tx`` in ``debug_traceCall`` (fees omitted: the simulated
    state is what matters, and a fee field the node rejects would hide an attack)."""
    out: dict[str, Any] = {"from": tx.sender, "input": "0x" + tx.data.hex(), "gas": hex(tx.gas)}
    if tx.to is not None:
        out["to"] = tx.to
    if tx.value:
        out["value"] = hex(tx.value)
    return out
