"""The scale-out transport: NATS JetStream streams between the roles of ``bulwark worker``.

Subjects are partitioned by network (``bulwark.tx.<network>.pending``, ``bulwark.tx.<network>.mined``,
``bulwark.findings.<network>``). Transactions go to a stream that every screen worker of a network
pulls from through one durable consumer with explicit acknowledgement: a message a worker took but
did not acknowledge within ``ack_wait_s`` (it died) is handed to another. Delivery is therefore at
least once, and the visible effect of judging is made idempotent by transaction hash:

* a finding is published with a ``Nats-Msg-Id`` naming its transaction and detector, so the
  findings stream drops a second copy inside its duplicate window;
* once a transaction's findings are published, its hash is written to the ``judged`` KV bucket; a
  redelivered message (``num_delivered > 1``) whose hash is there is acknowledged unjudged.

State that must hold across workers (a sender's window of outflows: its transactions reach whichever
worker is free) is kept in the ``windows`` KV bucket and changed only by compare-and-set
(:meth:`Bus.merge`), so two workers judging one sender's steps at once cannot lose each other's.

Streams are file-backed, so what the broker acknowledged survives its restart; the client
reconnects by itself and publishing is retried until the broker acknowledges it. The transaction
stream keeps messages by age (``tx_retention_s``), not as a work queue: the consumer's acknowledgement
floor says what is done, and the broker drops old messages in bulk instead of deleting each one as it
is acknowledged, which was a third of the broker's CPU per transaction and kept two screen workers
from scaling (bench/scale.py: 1.74x -> 1.98x on the 2-core box, December 2026). A stream created by
an earlier version keeps its policy.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import nats
from nats.aio.client import Client as NatsClient
from nats.aio.msg import Msg
from nats.js import JetStreamContext, api
from nats.js.errors import (
    BadRequestError,
    KeyDeletedError,
    KeyNotFoundError,
    KeyWrongLastSequenceError,
    NotFoundError,
)
from nats.js.kv import KeyValue

from bulwark.chain.convert import to_address, to_hash, to_opt_int, to_tx_hash
from bulwark.chain.rpc import redact_url
from bulwark.domain import Hash32, Transaction
from bulwark.errors import ChainError
from bulwark.logs import get_logger

log = get_logger(__name__)

__all__ = [
    "FINDINGS_STREAM",
    "TX_STREAM",
    "Bus",
    "BusUnavailable",
    "TxEnvelope",
    "decode_tx",
    "encode_tx",
    "network_token",
    "respond_consumer",
    "screen_consumer",
]

TX_STREAM = "BULWARK_TXS"
FINDINGS_STREAM = "BULWARK_FINDINGS"
JUDGED_BUCKET = "bulwark_judged"
ROLES_BUCKET = "bulwark_roles"  # one heartbeat entry per role process (``bulwark status``)
WINDOWS_BUCKET = "bulwark_windows"  # detectors' cross-worker state (Bus.merge)
# A window entry not written for this long is dropped by the broker: longer than any sensible
# cumulative-outflow window (the detector prunes its own window on every write).
WINDOW_ENTRY_TTL_S = 7 * 24 * 3600.0
KNOWN_WINDOWS = 65_536  # windows whose last revision a process remembers (Bus.merge)
ROLE_ENTRY_TTL_S = 60.0  # a process that stopped beating disappears from the bucket after this
FINDINGS_DUPLICATE_WINDOW_S = 3600.0  # a redelivered attack must not be announced twice within it
# How long the transaction stream keeps a message: a backlog older than this (every screen worker
# down for a day) is dropped unjudged; it matches the judged marks' lifetime (JUDGED_BUCKET).
TX_RETENTION_S = 24 * 3600.0
PUBLISH_RETRY_MAX_S = 2.0


class BusUnavailable(ChainError, ConnectionError):
    """The NATS broker cannot be reached, or has no JetStream."""


def network_token(network: str) -> str:
    """A network name as one subject token and consumer-name part ('.' separates NATS tokens;
    configuration names never contain '~', so the mapping is one to one)."""
    return network.replace(".", "~")


def screen_consumer(network: str) -> str:
    """The durable consumer every screen worker of ``network`` pulls from (in ``TX_STREAM``)."""
    return f"screen-{network_token(network)}"


def respond_consumer(protocol: str) -> str:
    """The durable consumer of ``protocol``'s responders (in ``FINDINGS_STREAM``)."""
    return f"respond-{network_token(protocol)}"


@dataclass(frozen=True, slots=True)
class TxEnvelope:
    """A transaction on its way to screening: pending (no block) or mined (with its block)."""

    network: str
    tx: Transaction
    seen_at: float  # wall clock (time.time()) of first sight: comparable across machines
    block_hash: Hash32 | None = None

    @property
    def mined(self) -> bool:
        return self.block_hash is not None

    @property
    def subject(self) -> str:
        return f"bulwark.tx.{network_token(self.network)}.{'mined' if self.mined else 'pending'}"

    @property
    def msg_id(self) -> str:
        """Deduplication id: an ingest that restarts (or a second one) re-publishes nothing new."""
        return f"{self.block_hash}:{self.tx.hash}" if self.mined else f"pending:{self.tx.hash}"


def _hex(value: int | None) -> str | None:
    return None if value is None else hex(value)


def encode_tx(env: TxEnvelope) -> bytes:
    """JSON with the transaction in JSON-RPC form (read back by :func:`chain.convert.to_transaction`)."""
    tx = env.tx
    raw: dict[str, Any] = {
        "hash": tx.hash,
        "from": tx.sender,
        "to": tx.to,
        "value": hex(tx.value),
        "input": "0x" + tx.data.hex(),
        "nonce": hex(tx.nonce),
        "gas": hex(tx.gas),
        "maxFeePerGas": _hex(tx.max_fee_per_gas),
        "maxPriorityFeePerGas": _hex(tx.max_priority_fee_per_gas),
        "gasPrice": _hex(tx.gas_price),
        "blockNumber": _hex(tx.block_number),
        "transactionIndex": _hex(tx.transaction_index),
    }
    body = {"network": env.network, "seen_at": env.seen_at, "block_hash": env.block_hash, "tx": raw}
    return json.dumps(body, separators=(",", ":")).encode()


def _data(value: str) -> bytes:
    if not value.startswith("0x"):
        raise ValueError(f"transaction input is not 0x hex: {value[:20]!r}")
    return bytes.fromhex(value[2:])


def decode_tx(data: bytes) -> TxEnvelope:
    """Read back :func:`encode_tx` (every field checked as :func:`chain.convert.to_transaction`
    would; a malformed message raises ValueError, KeyError or TypeError)."""
    body = json.loads(data)
    raw = body["tx"]
    to = raw.get("to")
    block_hash = body.get("block_hash")
    tx = Transaction(
        hash=to_tx_hash(raw["hash"]),
        sender=to_address(raw["from"]),
        to=None if to in (None, "", "0x") else to_address(to),
        value=int(raw["value"], 16),
        data=_data(raw["input"]),
        nonce=int(raw["nonce"], 16),
        gas=int(raw["gas"], 16),
        max_fee_per_gas=to_opt_int(raw.get("maxFeePerGas")),
        max_priority_fee_per_gas=to_opt_int(raw.get("maxPriorityFeePerGas")),
        gas_price=to_opt_int(raw.get("gasPrice")),
        block_number=to_opt_int(raw.get("blockNumber")),
        transaction_index=to_opt_int(raw.get("transactionIndex")),
    )
    return TxEnvelope(
        network=str(body["network"]),
        tx=tx,
        seen_at=float(body["seen_at"]),
        block_hash=to_hash(block_hash) if block_hash else None,
    )


class Bus:
    """One connection to the broker, with the streams, consumers and KV bucket Bulwark uses."""

    def __init__(
        self,
        url: str,
        *,
        ack_wait_s: float = 30.0,
        connect_timeout_s: float = 5.0,
        name: str = "bulwark",
        max_ack_pending: int = 4096,
        tx_retention_s: float = TX_RETENTION_S,
    ) -> None:
        self.url = url
        self.tx_retention_s = tx_retention_s
        self.ack_wait_s = ack_wait_s
        self.connect_timeout_s = connect_timeout_s
        self.name = name
        self.max_ack_pending = max_ack_pending
        self._nc: NatsClient | None = None
        self._js: JetStreamContext | None = None
        self._judged: KeyValue | None = None
        self._roles: KeyValue | None = None
        self._windows: KeyValue | None = None
        self._known: dict[str, tuple[int | None, bytes | None]] = {}  # key -> (revision, value)

    def __repr__(self) -> str:
        return f"Bus({redact_url(self.url)})"

    @property
    def js(self) -> JetStreamContext:
        if self._js is None:
            raise BusUnavailable("the bus is not connected: call connect() first")
        return self._js

    async def connect(self) -> Bus:
        async def report(exc: Exception) -> None:  # the client's default prints a traceback each retry
            if self._nc is None:  # still connecting: the timeout below says it once
                log.debug("NATS connection error", url=redact_url(self.url), error=repr(exc))
            else:
                log.warning("NATS connection error", url=redact_url(self.url), error=repr(exc))

        try:
            # After the first connection, reconnect for ever (a broker restart is waited out); the
            # first one must succeed within the timeout, or a wrong URL would be retried for ever.
            self._nc = await asyncio.wait_for(
                nats.connect(
                    self.url,
                    name=self.name,
                    connect_timeout=self.connect_timeout_s,
                    max_reconnect_attempts=-1,
                    reconnect_time_wait=0.25,
                    error_cb=report,
                ),
                self.connect_timeout_s + 1.0,
            )
        except (OSError, TimeoutError, nats.errors.Error) as exc:
            raise BusUnavailable(
                f"NATS at {redact_url(self.url)} did not answer ({type(exc).__name__}); "
                "start nats-server with -js, or fix cluster.nats_url"
            ) from exc
        self._js = self._nc.jetstream()
        try:
            await self._ensure_streams()
        except (TimeoutError, nats.errors.Error) as exc:
            await self.close()
            raise BusUnavailable(
                f"NATS at {redact_url(self.url)} refused the JetStream setup ({exc}); "
                "start nats-server with -js"
            ) from exc
        return self

    async def close(self) -> None:
        if self._nc is not None and not self._nc.is_closed:
            await self._nc.drain()
        self._nc = self._js = None

    async def __aenter__(self) -> Bus:
        return await self.connect()

    async def __aexit__(self, *_: object) -> None:
        await self.close()

    async def _ensure_stream(self, config: api.StreamConfig) -> None:
        assert config.name is not None
        try:
            await self.js.stream_info(config.name)
        except NotFoundError:
            try:
                await self.js.add_stream(config)
            except BadRequestError:  # another process created it meanwhile
                await self.js.stream_info(config.name)

    async def _ensure_streams(self) -> None:
        await self._ensure_stream(
            api.StreamConfig(
                name=TX_STREAM,
                subjects=["bulwark.tx.*.*"],
                # Kept by age; the consumer's acknowledgements say what is done (module docstring).
                retention=api.RetentionPolicy.LIMITS,
                max_age=self.tx_retention_s,
                storage=api.StorageType.FILE,
            )
        )
        await self._ensure_stream(
            api.StreamConfig(
                name=FINDINGS_STREAM,
                subjects=["bulwark.findings.*"],
                storage=api.StorageType.FILE,
                duplicate_window=FINDINGS_DUPLICATE_WINDOW_S,
            )
        )
        try:
            self._judged = await self.js.key_value(JUDGED_BUCKET)
        except (NotFoundError, nats.js.errors.BucketNotFoundError):
            self._judged = await self.js.create_key_value(
                bucket=JUDGED_BUCKET, history=1, ttl=FINDINGS_DUPLICATE_WINDOW_S * 24,
                storage=api.StorageType.FILE,
            )  # fmt: skip
        try:
            self._windows = await self.js.key_value(WINDOWS_BUCKET)
        except (NotFoundError, nats.js.errors.BucketNotFoundError):
            self._windows = await self.js.create_key_value(
                bucket=WINDOWS_BUCKET, history=1, ttl=WINDOW_ENTRY_TTL_S, storage=api.StorageType.FILE
            )
        try:
            self._roles = await self.js.key_value(ROLES_BUCKET)
        except (NotFoundError, nats.js.errors.BucketNotFoundError):
            self._roles = await self.js.create_key_value(
                bucket=ROLES_BUCKET, history=1, ttl=ROLE_ENTRY_TTL_S, storage=api.StorageType.FILE
            )

    # -- publishing (retried until the broker acknowledges: at least once) ------------------------

    async def _publish(self, subject: str, payload: bytes, msg_id: str) -> api.PubAck:
        delay = 0.05
        while True:
            try:
                return await self.js.publish(subject, payload, headers={"Nats-Msg-Id": msg_id})
            except (TimeoutError, nats.errors.Error) as exc:
                if self._nc is None or self._nc.is_closed:
                    raise BusUnavailable(f"publishing to {subject}: the connection is closed") from exc
                log.warning("publish not acknowledged; retrying", subject=subject, error=repr(exc))
                await asyncio.sleep(delay)
                delay = min(delay * 2, PUBLISH_RETRY_MAX_S)

    async def publish_tx(self, env: TxEnvelope) -> bool:
        """Queue a transaction for screening; False when the stream already had it (a duplicate)."""
        ack = await self._publish(env.subject, encode_tx(env), env.msg_id)
        return not ack.duplicate

    async def publish_finding(self, network: str, key: str, payload: Mapping[str, Any]) -> bool:
        """Publish one finding; False when an identical one (same ``key``) was published already."""
        data = json.dumps(payload, separators=(",", ":"), default=str).encode()
        ack = await self._publish(f"bulwark.findings.{network_token(network)}", data, key)
        return not ack.duplicate

    # -- screening --------------------------------------------------------------------------------

    async def screen_subscription(self, network: str) -> JetStreamContext.PullSubscription:
        """The network's shared screening consumer (created on first use)."""
        token = network_token(network)
        config = api.ConsumerConfig(
            ack_policy=api.AckPolicy.EXPLICIT,
            ack_wait=self.ack_wait_s,
            max_deliver=-1,
            max_ack_pending=self.max_ack_pending,
            filter_subject=f"bulwark.tx.{token}.*",
        )
        return await self.js.pull_subscribe(
            f"bulwark.tx.{token}.*", durable=screen_consumer(network), stream=TX_STREAM, config=config
        )

    async def respond_subscription(self, network: str, protocol: str) -> JetStreamContext.PullSubscription:
        """The protocol's responder consumer of its network's findings (one durable per protocol:
        whichever process holds the protocol's lease pulls from it; a standby resumes where the
        dead one stopped acknowledging)."""
        token, name = network_token(network), respond_consumer(protocol)
        config = api.ConsumerConfig(
            ack_policy=api.AckPolicy.EXPLICIT,
            ack_wait=self.ack_wait_s,
            max_deliver=-1,
            filter_subject=f"bulwark.findings.{token}",
        )
        return await self.js.pull_subscribe(
            f"bulwark.findings.{token}", durable=name, stream=FINDINGS_STREAM, config=config
        )

    async def judged(self, tx_hash: str) -> bool:
        assert self._judged is not None
        try:
            await self._judged.get(tx_hash.lower())
        except KeyNotFoundError:
            return False
        return True

    async def mark_judged(self, tx_hash: str) -> None:
        assert self._judged is not None
        with contextlib.suppress(KeyWrongLastSequenceError):  # marked by an earlier delivery
            await self._judged.create(tx_hash.lower(), str(time.time()).encode())

    async def merge(self, key: str, update: Callable[[bytes | None], bytes]) -> bytes:
        """Replace the ``windows`` entry ``key`` with ``update(value)`` (``None``: no entry) by
        compare-and-set, reading again and calling ``update`` again whenever another worker wrote
        in between; the value written. Raises BusUnavailable when the broker does not answer.

        The first attempt writes against what this process last read or wrote of the key (a key
        it never saw: as new), one round trip instead of two; the broker refuses it if anyone
        wrote since, and the key is read."""
        assert self._windows is not None
        kv = self._windows
        # Unknown here: assume new (most senders' first outflow), corrected by one conflict if not.
        known: tuple[int | None, bytes | None] | None = self._known.get(key, (None, None))
        try:
            while True:
                if known is not None:
                    revision, current = known
                else:
                    try:
                        entry = await kv.get(key)
                        revision, current = entry.revision, entry.value or None
                    except KeyDeletedError as gone:  # a delete marker: written over
                        revision, current = (gone.entry.revision if gone.entry else None), None
                    except KeyNotFoundError:  # none yet, or expired
                        revision, current = None, None
                value = update(current)
                try:
                    # last=0: only if the key has no entry (the bucket's TTL removes expired ones)
                    written = await kv.update(key, value, last=revision or 0)
                except KeyWrongLastSequenceError:
                    known = None  # another worker wrote first: read it, merge into it
                    continue
                if len(self._known) >= KNOWN_WINDOWS:  # bounded: start over rather than grow
                    self._known.clear()
                self._known[key] = (written, value)
                return value
        except (TimeoutError, nats.errors.Error) as exc:
            self._known.pop(key, None)
            raise BusUnavailable(f"the shared window {key} could not be updated ({exc!r})") from exc

    # -- heartbeats and progress (``bulwark status``) ----------------------------------------------

    async def beat(self, key: str, entry: Mapping[str, Any]) -> None:
        """Write this process's heartbeat under ``key`` (letters, digits, ``-_=.``)."""
        assert self._roles is not None
        await self._roles.put(key, json.dumps(entry, separators=(",", ":")).encode())

    async def forget(self, key: str) -> None:
        """Remove a heartbeat (a role that stops cleanly is gone at once, not after the TTL)."""
        assert self._roles is not None
        with contextlib.suppress(KeyNotFoundError, nats.js.errors.Error):
            await self._roles.delete(key)

    async def beats(self) -> list[dict[str, Any]]:
        """Every live heartbeat (entries older than ``ROLE_ENTRY_TTL_S`` have expired)."""
        assert self._roles is not None
        try:
            keys = await self._roles.keys()
        except nats.js.errors.NoKeysError:
            return []
        out: list[dict[str, Any]] = []
        for key in keys:
            with contextlib.suppress(KeyNotFoundError):  # expired or deleted meanwhile
                entry = await self._roles.get(key)
                if entry.value:
                    out.append(json.loads(entry.value))
        return out

    async def backlog(self, stream: str, consumer: str) -> int | None:
        """Messages on ``consumer``'s subjects published and not yet acknowledged (not yet handed
        out plus handed out and unacknowledged); None when the consumer does not exist yet."""
        try:
            info = await self.js.consumer_info(stream, consumer)
        except NotFoundError:
            return None
        return int(info.num_pending or 0) + int(info.num_ack_pending or 0)

    # -- reading findings back (status, tests, benchmarks) ----------------------------------------

    async def findings(self, network: str | None = None, *, timeout_s: float = 1.0) -> list[dict[str, Any]]:
        """Every finding in the stream, oldest first (an ephemeral consumer; nothing is acknowledged
        on anyone's behalf)."""
        subject = f"bulwark.findings.{network_token(network) if network else '*'}"
        out: list[dict[str, Any]] = []
        sub = await self.js.subscribe(subject, ordered_consumer=True, deliver_policy=api.DeliverPolicy.ALL)
        try:
            while True:
                try:
                    msg: Msg = await sub.next_msg(timeout=timeout_s)
                except TimeoutError:
                    break  # an empty stream sends nothing
                out.append(json.loads(msg.data))
                if msg.metadata.num_pending == 0:
                    break
        finally:
            await sub.unsubscribe()
        return out
