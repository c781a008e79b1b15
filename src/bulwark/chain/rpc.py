"""The JSON-RPC wire: raw response shapes, the transport, and which methods may be retried.

Raw shapes are TypedDicts because they are exactly what the node sends (hex strings); they never
leave this package — :mod:`bulwark.chain.convert` turns them into domain objects.
"""

from __future__ import annotations

import asyncio
import itertools
import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol, TypedDict
from urllib.parse import urlsplit

import msgspec

from bulwark.logs import mask, register_secret

# -- raw JSON-RPC shapes ---------------------------------------------------------------------

RawTransaction = TypedDict(
    "RawTransaction",
    {
        "hash": str,
        "from": str,
        "to": str | None,
        "value": str,
        "input": str,
        "nonce": str,
        "gas": str,
        "gasPrice": str,
        "maxFeePerGas": str,
        "maxPriorityFeePerGas": str,
        "blockNumber": str | None,
        "transactionIndex": str | None,
    },
    total=False,
)


class RawBlock(TypedDict, total=False):
    number: str
    hash: str
    parentHash: str
    timestamp: str
    baseFeePerGas: str
    gasUsed: str
    gasLimit: str
    transactions: list[str] | list[RawTransaction]


class RawLog(TypedDict, total=False):
    address: str
    topics: list[str]
    data: str
    blockNumber: str
    blockHash: str
    transactionHash: str
    logIndex: str
    removed: bool


class RawReceipt(TypedDict, total=False):
    transactionHash: str
    status: str
    blockNumber: str
    blockHash: str
    transactionIndex: str
    gasUsed: str
    effectiveGasPrice: str
    contractAddress: str | None
    logs: list[RawLog]


RawCallFrame = TypedDict(
    "RawCallFrame",
    {
        "type": str,
        "from": str,
        "to": str,
        "value": str,
        "input": str,
        "output": str,
        "gasUsed": str,
        "error": str,
        "revertReason": str,
        "calls": list["RawCallFrame"],
    },
    total=False,
)


class RawAccountState(TypedDict, total=False):
    balance: str
    nonce: int
    code: str
    storage: dict[str, str]


class RawPrestateDiff(TypedDict):
    pre: dict[str, RawAccountState]
    post: dict[str, RawAccountState]


class RpcErrorObject(TypedDict, total=False):
    code: int
    message: str
    data: Any


class RpcResponse(TypedDict, total=False):
    jsonrpc: str
    id: int | str
    result: Any
    error: RpcErrorObject


# -- retry policy ----------------------------------------------------------------------------

# Only reads are retried: resending eth_sendRawTransaction after a timeout could double-spend a
# nonce slot or mask "already known"; the relayer decides what to do about writes.
RETRYABLE_METHODS: frozenset[str] = frozenset(
    {
        "eth_call",
        "eth_chainId",
        "eth_blockNumber",
        "eth_getBalance",
        "eth_getCode",
        "eth_getStorageAt",
        "eth_getLogs",
        "eth_getTransactionCount",
        "eth_estimateGas",
        "eth_gasPrice",
        "eth_maxPriorityFeePerGas",
        "eth_feeHistory",
        "net_version",
        "txpool_content",
    }
)
RETRYABLE_PREFIXES: tuple[str, ...] = ("eth_getBlock", "eth_getTransaction", "debug_trace")


def is_retryable(method: str) -> bool:
    """True for idempotent read methods, which may safely be sent again after a transport error."""
    return method in RETRYABLE_METHODS or method.startswith(RETRYABLE_PREFIXES)


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """Exponential backoff with jitter for transport failures of retryable methods."""

    attempts: int = 4  # total tries, the first included
    base_delay_s: float = 0.1
    max_delay_s: float = 2.0

    def delay(self, attempt: int) -> float:
        """Seconds to wait after failed try number ``attempt`` (0-based)."""
        raw = min(self.max_delay_s, self.base_delay_s * float(1 << attempt))
        return raw * (0.5 + random.random() / 2)


# -- transport -------------------------------------------------------------------------------


class TransportError(Exception):
    """The request may not have reached the node, or its answer was lost (connection, timeout)."""


class Transport(Protocol):
    """Sends one JSON-RPC request; raises :class:`TransportError` when the wire fails."""

    url: str

    async def request(self, method: str, params: Sequence[Any]) -> RpcResponse: ...

    async def close(self) -> None: ...


class Web3HttpTransport:
    """web3.py's ``AsyncHTTPProvider`` with a keep-alive session and without its own retries."""

    def __init__(self, url: str, timeout_s: float = 10.0) -> None:
        from web3 import AsyncHTTPProvider

        self.url = url
        self._timeout_s = timeout_s
        # web3's retries are off: ours know which methods are safe to resend.
        self._provider = AsyncHTTPProvider(url, exception_retry_configuration=None)
        self._session_ready = False

    async def _ensure_session(self) -> None:
        if self._session_ready:
            return
        import aiohttp

        # web3's default session closes the TCP connection after every request; keep it alive.
        session = aiohttp.ClientSession(
            raise_for_status=True,
            timeout=aiohttp.ClientTimeout(total=self._timeout_s),
            connector=aiohttp.TCPConnector(limit=64),
        )
        await self._provider.cache_async_session(session)
        self._session_ready = True

    async def request(self, method: str, params: Sequence[Any]) -> RpcResponse:
        import aiohttp
        from web3.types import RPCEndpoint

        await self._ensure_session()
        try:
            response = await self._provider.make_request(RPCEndpoint(method), list(params))
        except aiohttp.ClientResponseError as exc:
            raise TransportError(f"HTTP {exc.status} {exc.message}") from exc
        except (aiohttp.ClientError, TimeoutError, OSError) as exc:
            raise TransportError(str(exc) or type(exc).__name__) from exc
        return response  # type: ignore[return-value]

    async def close(self) -> None:
        if self._session_ready:
            await self._provider.disconnect()
            self._session_ready = False


_JSON_HEADERS = {"Content-Type": "application/json"}


class Shaped(dict[str, Any]):
    """A request's last parameter (a tracer configuration, say) that also names the shape its
    answer decodes into. :class:`BatchTransport` decodes that answer straight into ``shape`` (a
    msgspec Struct, say: a trace of tens of frames and logs then builds no dict for each); any
    other transport, and every fake, sees a plain dict and answers plain JSON. So whoever asks
    must accept both (``msgspec.convert`` turns the JSON into the shape)."""

    __slots__ = ("shape",)

    def __init__(self, shape: type[Any], fields: Mapping[str, Any]) -> None:
        super().__init__(fields)
        self.shape = shape


class _Answer(msgspec.Struct, gc=False):
    """One answer of a batch, its result left undecoded until its request's shape is known."""

    id: int | str | None = None
    result: msgspec.Raw = msgspec.Raw(b"null")
    error: Any = msgspec.UNSET


_ANSWERS = msgspec.json.Decoder(list[_Answer] | dict[str, Any])
_PLAIN = msgspec.json.Decoder()
_Pending = tuple[dict[str, Any], "asyncio.Future[RpcResponse]", "msgspec.json.Decoder[Any] | None"]


class BatchTransport:
    """Concurrent requests coalesced into JSON-RPC batches (at most ``max_batch``, waiting at most
    ``max_wait_s`` for company): one HTTP round trip for tens of traces or reads. By default a
    batch is what one turn of the event loop asks (a burst of pending transactions starts its
    screens in one turn); waiting a millisecond more for company added that millisecond to every
    screen's latency and no throughput (bench/detect.py, issue 17). A batch that
    fails on the wire fails each of its requests with :class:`TransportError`, so the client
    retries the idempotent ones only, as for single requests. A request whose last parameter is
    :class:`Shaped` has its result decoded into that shape."""

    def __init__(self, url: str, *, max_batch: int = 32, max_wait_s: float = 0.0, timeout_s: float = 10.0):
        import aiohttp

        self.url = url
        self.max_batch = max_batch
        self.max_wait_s = max_wait_s
        self._timeout = aiohttp.ClientTimeout(total=timeout_s)
        self._session: aiohttp.ClientSession | None = None
        self._queue: list[_Pending] = []
        self._flush_handle: asyncio.TimerHandle | None = None
        self._ids = itertools.count(1)
        self._inflight: set[asyncio.Task[None]] = set()
        self._decoders: dict[type[Any], msgspec.json.Decoder[Any]] = {}

    async def request(self, method: str, params: Sequence[Any]) -> RpcResponse:
        loop = asyncio.get_running_loop()
        fut: asyncio.Future[RpcResponse] = loop.create_future()
        body = {"jsonrpc": "2.0", "id": next(self._ids), "method": method, "params": list(params)}
        shaped = params[-1] if params else None
        decoder = None
        if isinstance(shaped, Shaped):
            decoder = self._decoders.get(shaped.shape)
            if decoder is None:
                decoder = self._decoders[shaped.shape] = msgspec.json.Decoder(shaped.shape)
        self._queue.append((body, fut, decoder))
        if len(self._queue) >= self.max_batch:
            self._flush()
        elif self._flush_handle is None:
            self._flush_handle = loop.call_later(self.max_wait_s, self._flush)
        return await fut

    def _flush(self) -> None:
        if self._flush_handle is not None:
            self._flush_handle.cancel()
            self._flush_handle = None
        batch, self._queue = self._queue, []
        if batch:
            task = asyncio.get_running_loop().create_task(self._send(batch))
            self._inflight.add(task)
            task.add_done_callback(self._inflight.discard)

    async def _send(self, batch: list[_Pending]) -> None:
        import aiohttp

        if self._session is None:
            self._session = aiohttp.ClientSession(timeout=self._timeout)
        try:
            # msgspec: several times faster than json on traces, and exact on integers of any size
            payload = msgspec.json.encode([body for body, _, _ in batch])
            async with self._session.post(self.url, data=payload, headers=_JSON_HEADERS) as resp:
                answers = _ANSWERS.decode(await resp.read())
        except (aiohttp.ClientError, TimeoutError, OSError, ValueError) as exc:
            err = TransportError(f"{type(exc).__name__}: {exc}")
            for _, fut, _ in batch:
                if not fut.done():
                    fut.set_exception(err)
            return
        # Not a list: an error about the batch as a whole; each request is then unanswered.
        by_id = {a.id: a for a in answers} if isinstance(answers, list) else {}
        for body, fut, decoder in batch:
            if fut.done():
                continue
            answer = by_id.get(body["id"])
            if answer is None:  # lost on the way back: a read may be asked again
                fut.set_exception(TransportError("no answer in the batch response"))
            elif answer.error is not msgspec.UNSET:
                fut.set_result({"error": answer.error})
            else:
                fut.set_result({"result": _result(answer.result, decoder)})

    async def close(self) -> None:
        if self._inflight:
            await asyncio.gather(*self._inflight, return_exceptions=True)
        if self._session is not None:
            await self._session.close()
            self._session = None


def _result(raw: msgspec.Raw, decoder: msgspec.json.Decoder[Any] | None) -> Any:
    if decoder is not None:
        try:
            return decoder.decode(raw)
        except msgspec.ValidationError:
            pass  # not the expected shape (a null, an odd node): plain JSON, for the reader to judge
    return _PLAIN.decode(raw)


async def sleep(seconds: float) -> None:
    """Indirection so tests can skip the backoff."""
    await asyncio.sleep(seconds)


def redact_url(url: str) -> str:
    """``url`` with its path, query and password masked (they often carry an API key)."""
    parts = urlsplit(url)
    for secret in (parts.query, parts.path.strip("/"), parts.password or ""):
        if secret:
            register_secret(secret)
    return mask(url)
