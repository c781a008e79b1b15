"""Async JSON-RPC client: typed reads, transactions, traces, anvil helpers and subscriptions.

The chain is untrusted and flaky: reads are retried with backoff, writes never are; every
answer is turned into a frozen domain object before it leaves this module; a head that is too
old is refused (:meth:`ChainClient.ensure_fresh_head`).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable, Coroutine, Mapping, Sequence
from dataclasses import dataclass
from types import TracebackType
from typing import Any, Generic, TypeVar

import msgspec

from bulwark.chain import convert, rpc
from bulwark.chain.abi import Abi, decode_revert, encode_deploy
from bulwark.chain.rpc import RetryPolicy, RpcErrorObject, Transport, TransportError, redact_url
from bulwark.chain.signer import Signer
from bulwark.domain.chain import (
    Address,
    Block,
    CallFrame,
    Hash32,
    Log,
    Receipt,
    StateDiff,
    Transaction,
    TxHash,
)
from bulwark.errors import ChainError, RpcUnreachable, StaleHead, TransactionFailed
from bulwark.logs import get_logger, mask

T = TypeVar("T")
# How long opening a WebSocket subscription (connect, then the subscription id) may take.
_WS_OPEN_TIMEOUT_S = 10.0
BlockId = int | str
"""A block number, or a tag: ``latest``, ``pending``, ``earliest``, ``safe``, ``finalized``."""

log = get_logger(__name__)


class CallReverted(TransactionFailed):
    """Execution reverted (in ``eth_call``/``eth_estimateGas``, or a mined transaction).

    ``reason`` is the decoded reason; ``data`` the raw revert data; ``receipt`` is set when the
    transaction was mined.
    """

    def __init__(
        self, user_message: str, *, reason: str, data: bytes, receipt: Receipt | None = None
    ) -> None:
        super().__init__(user_message)
        self.reason = reason
        self.data = data
        self.receipt = receipt


class ChainIdMismatch(ChainError):
    """The node serves another chain than the one configured (or than the one it served at start)."""


class Outage:
    """One endpoint's unreachability, shared by every loop that talks to it.

    Each failing loop asks :meth:`failed` how long to wait (half the outage so far, between
    ``min_delay_s`` and ``max_delay_s``: exponential and capped, whatever the number of loops), and
    the outage is reported once when it starts, then at most once per ``report_every_s``, then
    once when a request succeeds again: a down node costs a few lines, not one per retry.
    """

    def __init__(
        self,
        endpoint: str,
        *,
        min_delay_s: float = 0.1,
        max_delay_s: float = 10.0,
        report_every_s: float = 30.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.endpoint = endpoint
        self.min_delay_s = min_delay_s
        self.max_delay_s = max_delay_s
        self.report_every_s = report_every_s
        self.clock = clock
        self.since: float | None = None
        self._reported_at = 0.0

    def delay(self) -> float:
        if self.since is None:
            return self.min_delay_s
        return min(self.max_delay_s, max(self.min_delay_s, (self.clock() - self.since) / 2))

    def failed(self, error: str) -> float:
        """Record one failure; the seconds to wait before trying again."""
        now = self.clock()
        if self.since is None:
            self.since = self._reported_at = now
            log.warning("rpc unreachable; retrying with backoff", endpoint=self.endpoint, error=mask(error))
        elif now - self._reported_at >= self.report_every_s:
            self._reported_at = now
            down, every = now - self.since, self.delay()
            log.warning(
                f"rpc unreachable for {down:.0f}s, retrying every {every:.1f}s",
                endpoint=self.endpoint,
                error=mask(error),
            )
        return self.delay()

    def ok(self) -> bool:
        """Record a success; True when it ends an outage (said once, in one line)."""
        if self.since is None:
            return False
        down, self.since = self.clock() - self.since, None
        log.warning(f"rpc reachable again after {down:.1f}s", endpoint=self.endpoint)
        return True


@dataclass(frozen=True, slots=True)
class TxRequest:
    """What to send; fields left ``None`` are filled from the chain (nonce, gas, fees)."""

    to: Address | None = None
    data: bytes = b""
    value: int = 0
    gas: int | None = None
    max_fee_per_gas: int | None = None
    max_priority_fee_per_gas: int | None = None
    nonce: int | None = None

    def to_rpc(self, sender: Address | None = None) -> dict[str, Any]:
        out: dict[str, Any] = {"data": "0x" + self.data.hex(), "value": hex(self.value)}
        if sender is not None:
            out["from"] = sender
        if self.to is not None:
            out["to"] = self.to
        for key, val in (
            ("gas", self.gas),
            ("maxFeePerGas", self.max_fee_per_gas),
            ("maxPriorityFeePerGas", self.max_priority_fee_per_gas),
            ("nonce", self.nonce),
        ):
            if val is not None:
                out[key] = hex(val)
        return out


@dataclass(frozen=True, slots=True)
class LogFilter:
    """``eth_getLogs`` filter. A topic position holds one hash, alternatives, or ``None`` (any)."""

    address: Address | tuple[Address, ...] | None = None
    topics: tuple[Hash32 | tuple[Hash32, ...] | None, ...] = ()
    from_block: BlockId = "latest"
    to_block: BlockId = "latest"
    block_hash: Hash32 | None = None

    def to_rpc(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if self.address is not None:
            out["address"] = list(self.address) if isinstance(self.address, tuple) else self.address
        if self.topics:
            out["topics"] = [list(t) if isinstance(t, tuple) else t for t in self.topics]
        if self.block_hash is not None:
            out["blockHash"] = self.block_hash
        else:
            out["fromBlock"] = _block_id(self.from_block)
            out["toBlock"] = _block_id(self.to_block)
        return out


def _block_id(block: BlockId) -> str:
    return hex(block) if isinstance(block, int) else block


def _hex(data: bytes) -> str:
    return "0x" + data.hex()


class ChainClient:
    """One JSON-RPC endpoint (HTTP for requests; optional WebSocket URL for subscriptions)."""

    def __init__(
        self,
        url: str,
        *,
        ws_url: str | None = None,
        retry: RetryPolicy | None = None,
        timeout_s: float = 10.0,
        transport: Transport | None = None,
    ) -> None:
        self.url = url  # may carry an API key: log display_url, never this
        self.display_url = redact_url(url)
        self.ws_url = ws_url
        self.retry = retry or RetryPolicy()
        self._transport: Transport = transport or rpc.Web3HttpTransport(url, timeout_s)
        self._chain_id: int | None = None
        self.outage = Outage(self.display_url)

    async def __aenter__(self) -> ChainClient:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.close()

    async def close(self) -> None:
        await self._transport.close()

    def __repr__(self) -> str:
        return f"ChainClient({self.display_url})"

    # -- the wire ------------------------------------------------------------------------------

    async def request(self, method: str, params: Sequence[Any] = ()) -> Any:
        """Send one request; retry transport failures of idempotent reads only."""
        attempts = max(1, self.retry.attempts) if rpc.is_retryable(method) else 1
        for attempt in range(attempts):
            try:
                response = await self._transport.request(method, params)
            except TransportError as exc:
                if attempt + 1 < attempts:
                    log.debug("rpc retry", method=method, attempt=attempt + 1, error=str(exc))
                    await rpc.sleep(self.retry.delay(attempt))
                    continue
                tried = f" after {attempts} tries" if attempts > 1 else ""
                raise RpcUnreachable(
                    f"cannot reach the JSON-RPC endpoint {self.display_url}{tried} ({method}: {exc}); "
                    "check that the node is running and the URL is right",
                ) from exc
            if "error" in response:
                raise self._rpc_error(method, response["error"])
            return response.get("result")
        raise AssertionError("unreachable")  # pragma: no cover

    def _rpc_error(self, method: str, error: RpcErrorObject) -> ChainError:
        message = str(error.get("message", "unknown error"))
        data = error.get("data")
        if isinstance(data, Mapping):  # some nodes nest the revert data
            data = data.get("data")
        if error.get("code") == 3 or "revert" in message.lower():
            raw = convert.to_bytes(data) if isinstance(data, str) else b""
            reason = decode_revert(raw) if raw else message.removeprefix("execution reverted: ")
            return CallReverted(f"{method} reverted: {reason}", reason=reason, data=raw)
        return ChainError(f"{method} failed on {self.display_url}: {message}")

    # -- reads -----------------------------------------------------------------------------------

    async def chain_id(self) -> int:
        if self._chain_id is None:
            self._chain_id = convert.to_int(await self.request("eth_chainId"))
        return self._chain_id

    async def block_number(self) -> int:
        return convert.to_int(await self.request("eth_blockNumber"))

    async def get_block(self, block: BlockId | Hash32 = "latest", *, full: bool = False) -> Block:
        """A block by number, tag or hash; ``full`` includes its transactions."""
        if isinstance(block, str) and len(block) == 66:
            raw = await self.request("eth_getBlockByHash", [block, full])
        else:
            raw = await self.request("eth_getBlockByNumber", [_block_id(block), full])
        if raw is None:
            raise ChainError(f"block {block} does not exist on {self.display_url}")
        return convert.to_block(raw)

    async def get_transaction(self, tx_hash: TxHash) -> Transaction | None:
        raw = await self.request("eth_getTransactionByHash", [tx_hash])
        return None if raw is None else convert.to_transaction(raw)

    async def get_receipt(self, tx_hash: TxHash) -> Receipt | None:
        raw = await self.request("eth_getTransactionReceipt", [tx_hash])
        return None if raw is None else convert.to_receipt(raw)

    async def get_code(self, address: Address, block: BlockId = "latest") -> bytes:
        return convert.to_bytes(await self.request("eth_getCode", [address, _block_id(block)]))

    async def get_storage_at(self, address: Address, slot: int | Hash32, block: BlockId = "latest") -> Hash32:
        key = hex(slot) if isinstance(slot, int) else slot
        return convert.to_hash(await self.request("eth_getStorageAt", [address, key, _block_id(block)]))

    async def get_balance(self, address: Address, block: BlockId = "latest") -> int:
        return convert.to_int(await self.request("eth_getBalance", [address, _block_id(block)]))

    async def get_nonce(self, address: Address, block: BlockId = "pending") -> int:
        return convert.to_int(await self.request("eth_getTransactionCount", [address, _block_id(block)]))

    async def get_logs(self, log_filter: LogFilter) -> list[Log]:
        return [convert.to_log(lg) for lg in await self.request("eth_getLogs", [log_filter.to_rpc()])]

    async def pending_transactions(self, *, include_queued: bool = False) -> list[Transaction]:
        """The node's mempool (``txpool_content``), by sender then nonce."""
        content = await self.request("txpool_content")
        out: list[Transaction] = []
        for section in ("pending", "queued") if include_queued else ("pending",):
            for by_nonce in (content.get(section) or {}).values():
                for _, raw in sorted(by_nonce.items(), key=lambda kv: int(kv[0])):
                    out.append(convert.to_transaction(raw))
        return out

    async def ensure_fresh_head(self, max_age_s: float, *, now: float | None = None) -> Block:
        """The newest block, or :class:`StaleHead` when it is older than ``max_age_s``."""
        head = await self.get_block("latest")
        age = (time.time() if now is None else now) - head.timestamp
        if age > max_age_s:
            raise StaleHead(
                f"the newest block #{head.number} on {self.display_url} is {age:.0f} s old "
                f"(allowed: {max_age_s:g} s); refusing to act on a stale head: check the node is syncing"
            )
        return head

    # -- calls, traces ---------------------------------------------------------------------------

    async def call(
        self,
        tx: TxRequest,
        *,
        sender: Address | None = None,
        block: BlockId = "latest",
        abi: Abi | None = None,
    ) -> bytes:
        """``eth_call``; a revert raises :class:`CallReverted` with the decoded reason."""
        try:
            return convert.to_bytes(await self.request("eth_call", [tx.to_rpc(sender), _block_id(block)]))
        except CallReverted as exc:
            raise _with_abi(exc, abi) from None

    async def estimate_gas(self, tx: TxRequest, *, sender: Address, abi: Abi | None = None) -> int:
        try:
            return convert.to_int(await self.request("eth_estimateGas", [tx.to_rpc(sender)]))
        except CallReverted as exc:
            raise _with_abi(exc, abi) from None

    async def trace_call(
        self, tx: TxRequest, *, sender: Address | None = None, block: BlockId = "latest"
    ) -> CallFrame:
        """What ``tx`` would do, as a ``callTracer`` frame tree (nothing is sent)."""
        raw = await self.request(
            "debug_traceCall", [tx.to_rpc(sender), _block_id(block), {"tracer": "callTracer"}]
        )
        return convert.to_call_frame(raw)

    async def trace_transaction(self, tx_hash: TxHash) -> CallFrame:
        raw = await self.request("debug_traceTransaction", [tx_hash, {"tracer": "callTracer"}])
        return convert.to_call_frame(raw)

    async def state_diff_call(
        self, tx: TxRequest, *, sender: Address | None = None, block: BlockId = "latest"
    ) -> StateDiff:
        """The state ``tx`` would change (``prestateTracer`` in ``diffMode``)."""
        cfg = {"tracer": "prestateTracer", "tracerConfig": {"diffMode": True}}
        raw = await self.request("debug_traceCall", [tx.to_rpc(sender), _block_id(block), cfg])
        return convert.to_state_diff(raw)

    async def state_diff_transaction(self, tx_hash: TxHash) -> StateDiff:
        cfg = {"tracer": "prestateTracer", "tracerConfig": {"diffMode": True}}
        return convert.to_state_diff(await self.request("debug_traceTransaction", [tx_hash, cfg]))

    # -- writes ----------------------------------------------------------------------------------

    async def send_transaction(self, tx: TxRequest, *, sender: Signer | Address) -> TxHash:
        """Sign locally with a :class:`Signer`, or let the node sign for an unlocked/impersonated
        address. Never retried: a lost answer does not mean the transaction was not sent."""
        if not isinstance(sender, Signer):
            return convert.to_tx_hash(await self.request("eth_sendTransaction", [tx.to_rpc(sender)]))
        fields = await self._fill(tx, sender.address)
        raw = sender.sign_transaction(fields)
        return convert.to_tx_hash(await self.request("eth_sendRawTransaction", [_hex(raw)]))

    async def _fill(self, tx: TxRequest, sender: Address) -> dict[str, Any]:
        tip = tx.max_priority_fee_per_gas
        max_fee = tx.max_fee_per_gas
        if max_fee is None or tip is None:
            if tip is None:
                tip = convert.to_int(await self.request("eth_maxPriorityFeePerGas"))
            if max_fee is None:
                base = (await self.get_block("latest")).base_fee or 0
                max_fee = 2 * base + tip
        fields: dict[str, Any] = {
            "type": 2,
            "chainId": await self.chain_id(),
            "nonce": tx.nonce if tx.nonce is not None else await self.get_nonce(sender, "pending"),
            "gas": tx.gas if tx.gas is not None else _with_margin(await self.estimate_gas(tx, sender=sender)),
            "maxFeePerGas": max_fee,
            "maxPriorityFeePerGas": tip,
            "value": tx.value,
            "data": tx.data,
        }
        if tx.to is not None:
            fields["to"] = tx.to
        return fields

    async def wait_for_receipt(
        self, tx_hash: TxHash, *, timeout_s: float = 30.0, poll_s: float = 0.05
    ) -> Receipt:
        deadline = time.monotonic() + timeout_s
        while True:
            receipt = await self.get_receipt(tx_hash)
            if receipt is not None:
                return receipt
            if time.monotonic() > deadline:
                raise ChainError(f"transaction {tx_hash} was not mined within {timeout_s:g} s")
            await asyncio.sleep(poll_s)

    async def transact(
        self,
        tx: TxRequest,
        *,
        sender: Signer | Address,
        check: bool = True,
        abi: Abi | None = None,
        timeout_s: float = 30.0,
    ) -> Receipt:
        """Send and wait for the receipt. A revert raises :class:`CallReverted` naming the reason,
        unless ``check=False``, which returns the failed receipt instead (a transaction that
        fails gas estimation is never sent and always raises)."""
        tx_hash = await self._send_checked(tx, sender, abi)
        receipt = await self.wait_for_receipt(tx_hash, timeout_s=timeout_s)
        if check and not receipt.status:
            data = await self._revert_data(tx_hash)
            reason = decode_revert(data, abi) if data is not None else "reason unavailable"
            raise CallReverted(
                f"transaction {tx_hash} reverted in block {receipt.block_number}: {reason}",
                reason=reason,
                data=data or b"",
                receipt=receipt,
            )
        return receipt

    async def _send_checked(self, tx: TxRequest, sender: Signer | Address, abi: Abi | None) -> TxHash:
        try:
            return await self.send_transaction(tx, sender=sender)
        except CallReverted as exc:
            raise _with_abi(exc, abi) from None

    async def _revert_data(self, tx_hash: TxHash) -> bytes | None:
        try:
            return (await self.trace_transaction(tx_hash)).output
        except ChainError:
            return None

    async def deploy(
        self,
        abi: Abi,
        bytecode: bytes,
        *args: Any,
        sender: Signer | Address,
        value: int = 0,
        gas: int | None = None,
    ) -> Address:
        """Deploy ``bytecode`` (init code) with constructor ``args``; returns the new address."""
        tx = TxRequest(data=encode_deploy(abi, bytecode, *args), value=value, gas=gas)
        receipt = await self.transact(tx, sender=sender, abi=abi)
        if receipt.contract_address is None:
            raise TransactionFailed(f"deployment {receipt.tx_hash} created no contract")
        return receipt.contract_address

    # -- anvil helpers ---------------------------------------------------------------------------

    async def mine(self, blocks: int = 1, interval_s: int | None = None) -> None:
        await self.request(
            "anvil_mine", [hex(blocks)] + ([hex(interval_s)] if interval_s is not None else [])
        )

    async def set_automine(self, enabled: bool) -> None:
        await self.request("evm_setAutomine", [enabled])

    async def snapshot(self) -> str:
        return str(await self.request("evm_snapshot"))

    async def revert(self, snapshot_id: str) -> None:
        if not await self.request("evm_revert", [snapshot_id]):
            raise ChainError(f"snapshot {snapshot_id} does not exist (each snapshot can be reverted once)")

    async def impersonate(self, address: Address) -> None:
        await self.request("anvil_impersonateAccount", [address])

    async def stop_impersonating(self, address: Address) -> None:
        await self.request("anvil_stopImpersonatingAccount", [address])

    async def set_code(self, address: Address, code: bytes) -> None:
        await self.request("anvil_setCode", [address, _hex(code)])

    async def set_balance(self, address: Address, wei: int) -> None:
        await self.request("anvil_setBalance", [address, hex(wei)])

    async def set_storage_at(self, address: Address, slot: int | Hash32, value: int | Hash32) -> None:
        key = convert.to_hex32(slot.to_bytes(32, "big") if isinstance(slot, int) else slot)
        val = convert.to_hex32(value.to_bytes(32, "big") if isinstance(value, int) else value)
        await self.request("anvil_setStorageAt", [address, key, val])

    async def set_next_block_timestamp(self, timestamp: int) -> None:
        await self.request("evm_setNextBlockTimestamp", [timestamp])

    async def drop_transaction(self, tx_hash: TxHash) -> None:
        await self.request("anvil_dropTransaction", [tx_hash])

    async def reorg(self, depth: int, transactions: Sequence[tuple[Mapping[str, Any], int]] = ()) -> None:
        """Replace the last ``depth`` blocks (``anvil_reorg``); ``transactions`` are
        (transaction request, block offset) pairs to include in the new blocks."""
        await self.request("anvil_reorg", [depth, [[dict(t), i] for t, i in transactions]])

    # -- subscriptions ---------------------------------------------------------------------------

    def subscribe_new_heads(self) -> Subscription[Block]:
        """New blocks as they are mined: ``async with client.subscribe_new_heads() as heads``."""
        return Subscription(self._need_ws(), ("newHeads",), convert.to_block)

    def subscribe_pending_transactions(self) -> Subscription[Transaction]:
        """Full pending transactions as they enter the node's pool."""
        return Subscription(self._need_ws(), ("newPendingTransactions", True), convert.to_transaction)

    def subscribe_logs(self, log_filter: LogFilter) -> Subscription[Log]:
        flt = {k: v for k, v in log_filter.to_rpc().items() if k in ("address", "topics")}
        return Subscription(self._need_ws(), ("logs", flt), convert.to_log)

    def _need_ws(self) -> str:
        if not self.ws_url:
            raise ChainError(f"subscriptions need a WebSocket URL; give ws_url for {self.display_url}")
        return self.ws_url


def _with_abi(exc: CallReverted, abi: Abi | None) -> CallReverted:
    """Re-decode a revert with the contract's ABI, which names its custom errors."""
    if abi is None or not exc.data:
        return exc
    reason = decode_revert(exc.data, abi)
    head = exc.user_message.rsplit(": ", 1)[0] if exc.reason in exc.user_message else exc.user_message
    return CallReverted(f"{head}: {reason}", reason=reason, data=exc.data, receipt=exc.receipt)


class Subscription(Generic[T]):
    """One ``eth_subscribe`` stream on its own WebSocket connection, as an async iterator.

    Enter it (``async with``) before acting, so nothing that happens after is missed; leaving
    unsubscribes and closes the connection. The messages are read as the node sends them (hex
    JSON, decoded by msgspec) and converted once by ``conv``: web3.py's subscription formatters
    checksummed every address and rebuilt every message as attribute dicts, which was most of the
    CPU between a pending transaction's arrival and its screening (bench/detect.py, profiled).
    """

    def __init__(self, ws_url: str, params: tuple[Any, ...], conv: Callable[[Any], T]) -> None:
        self._url = ws_url
        self._params = params
        self._convert = conv
        self._ws: Any = None
        self.subscription_id: str | None = None

    async def __aenter__(self) -> Subscription[T]:
        from websockets.asyncio.client import connect
        from websockets.exceptions import InvalidHandshake, InvalidURI, WebSocketException

        try:
            # No size cap: a block or a batch of logs can be large; the node is trusted to frame it.
            self._ws = await connect(self._url, open_timeout=_WS_OPEN_TIMEOUT_S, max_size=None)
            await self._ws.send(
                msgspec.json.encode(
                    {"jsonrpc": "2.0", "id": 1, "method": "eth_subscribe", "params": list(self._params)}
                )
            )
            async with asyncio.timeout(_WS_OPEN_TIMEOUT_S):
                reply = msgspec.json.decode(await self._ws.recv())
        except (OSError, TimeoutError, InvalidHandshake, InvalidURI, WebSocketException) as exc:
            await self.aclose()
            where = redact_url(self._url)  # registers the URL's secrets before masking the text
            raise RpcUnreachable(
                f"cannot open a WebSocket to {where} ({mask(str(exc)) or type(exc).__name__}); "
                "check that the node is running and serves WebSocket on that URL"
            ) from exc
        except BaseException:
            await self.aclose()
            raise
        if not isinstance(reply, dict) or not isinstance(reply.get("result"), str):
            await self.aclose()
            error = reply.get("error") if isinstance(reply, dict) else reply
            raise ChainError(f"the node refused eth_subscribe{self._params!r}: {mask(str(error))}")
        self.subscription_id = reply["result"]
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()

    def __aiter__(self) -> Subscription[T]:
        return self

    async def __anext__(self) -> T:
        from websockets.exceptions import ConnectionClosed

        if self._ws is None:
            raise ChainError("enter the subscription (`async with`) before iterating it")
        while True:
            try:
                message = msgspec.json.decode(await self._ws.recv())
            except ConnectionClosed as exc:
                raise ChainError(f"the subscription's WebSocket closed ({exc})") from exc
            except msgspec.DecodeError as exc:
                raise ChainError(f"the node sent a malformed subscription message: {exc}") from exc
            params = message.get("params") if isinstance(message, dict) else None
            # Only this subscription's notifications; the unsubscribe reply and others are skipped.
            if isinstance(params, dict) and params.get("subscription") == self.subscription_id:
                return self._convert(params.get("result"))

    async def aclose(self) -> None:
        ws, self._ws = self._ws, None
        if ws is None:
            return
        try:
            if self.subscription_id is not None:
                request = {
                    "jsonrpc": "2.0",
                    "id": 2,
                    "method": "eth_unsubscribe",
                    "params": [self.subscription_id],
                }
                await asyncio.wait_for(ws.send(msgspec.json.encode(request)), 2.0)
        except Exception as exc:  # closing anyway: the server drops it with the socket
            log.debug("unsubscribe failed", error=str(exc))
        finally:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(ws.close(), 2.0)


def run(coro: Coroutine[Any, Any, T]) -> T:
    """Thin sync face for scripts, the bench and the CLI: run one coroutine to completion."""
    return asyncio.run(coro)


# An estimate holds for the block it was made on; a transaction whose path depends on the time
# (a price observation written once per new second) may need more when mined a second later.
_GAS_MARGIN_DIVISOR = 5  # +20%, as wallets add
_GAS_CAP = 30_000_000  # never above a block's usual limit because of the margin


def _with_margin(estimate: int) -> int:
    return max(estimate, min(estimate + estimate // _GAS_MARGIN_DIVISOR, _GAS_CAP))
