"""Scale-out roles over NATS JetStream (:mod:`bulwark.chain.bus`) and a shared PostgreSQL.

* **ingest** (one per network, under the store lease ``ingest:<network>``): follows the mempool and
  confirmed heads with the same watchers ``bulwark watch`` uses and publishes every pending and
  mined transaction to the network's subjects. A head is checkpointed only after its transactions
  were acknowledged by the broker, so a restarted ingest re-publishes (deduplicated) rather than skips.
* **screen** (any number, stateless): pulls from the network's shared consumer, screens each
  transaction with the detection engine, publishes its findings, then acknowledges it. State a
  judgement needs across transactions (a sender's window of outflows) is kept on the bus, not in
  the worker. A worker killed before acknowledging leaves its transactions to be redelivered to
  another; the visible effect (a finding on the findings stream) happens once per transaction and
  detector.
* **respond** (any number per protocol, under the store lease ``respond:<protocol>``): one acts on
  the protocol's findings, the others stand by and take over within 2 s of its death.
* **incident**: :mod:`bulwark.app.incident_role`.

Every role beats into the bus's roles bucket (:class:`bulwark.app.status.Heartbeat`), which
``bulwark status`` reads. The embedded default (``bulwark watch`` without a ``cluster`` section)
does not use this module.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

import nats
from nats.aio.msg import Msg

from bulwark.app.broker import cluster_bus, cluster_urls
from bulwark.app.contain import responder_from_config
from bulwark.app.status import Heartbeat, role_consumer
from bulwark.chain.bus import Bus, TxEnvelope, decode_tx, encode_tx
from bulwark.chain.client import ChainClient
from bulwark.chain.mempool import BatchRpc, MempoolWatcher
from bulwark.chain.watchers import BlockProcessed, HeadWatcher
from bulwark.config import BulwarkConfig
from bulwark.detect.persist import StoreCheckpoints, holding_lease
from bulwark.detect.report import finding_json
from bulwark.detect.screen import Screener, SimulationFailed
from bulwark.detect.setup import build_monitors
from bulwark.domain import Finding, Hash32, Transaction
from bulwark.domain.finding import finding_from_json  # the one codec, re-exported
from bulwark.errors import ChainError, ConfigError, LeaseHeld
from bulwark.heap import settle_after_startup
from bulwark.logs import get_logger
from bulwark.respond import Containment
from bulwark.store import Store

log = get_logger(__name__)

__all__ = [
    "ScreenStats",
    "ScreenWorker",
    "TxScreener",
    "finding_from_json",
    "finding_key",
    "holding_role",
    "networks_named",
    "respond_loop",
    "run_ingest",
    "run_ingest_role",
    "run_respond_role",
    "run_screen_role",
]

FETCH_BATCH = 64
FETCH_TIMEOUT_S = 1.0
BATCH_WAIT_S = 0.05  # the longest a pull for many may hold the first transaction it got
NAK_DELAY_S = 1.0  # a node that failed to answer is asked again after this, by whichever worker


class TxScreener(Protocol):
    """What a screen worker needs of the detection engine (:class:`bulwark.detect.screen.Screener`)."""

    def note_pending(self, tx: Transaction) -> None: ...

    async def screen(self, tx: Transaction) -> list[Finding]: ...

    async def judge_mined(self, tx: Transaction, block_number: int, block_hash: Hash32) -> list[Finding]: ...

    async def refresh(self, block_number: int = 0) -> None: ...


def finding_key(env: TxEnvelope, finding: Finding) -> str:
    """The finding's identity for deduplication: its transaction (and block) and what judged it."""
    return f"{env.msg_id}:{finding.detector}:{finding.protocol}:{finding.contract or '-'}"


@dataclass(slots=True)
class ScreenStats:
    screened: int = 0  # judged (first delivery or a redelivery not judged before)
    redelivered: int = 0  # deliveries after the first
    already_judged: int = 0  # redeliveries acknowledged without judging (findings already out)
    findings: int = 0  # findings published (duplicates dropped by the broker not counted)
    duplicates: int = 0  # findings the broker had already
    failed: int = 0  # could not be simulated (acknowledged, logged)
    retried: int = 0  # handed back to the broker (node unreachable)


OnScreened = Callable[[TxEnvelope, list[Finding]], Awaitable[None] | None]


@dataclass(slots=True)
class ScreenWorker:
    """One screening process: pulls transactions of ``screeners``' networks and judges them."""

    bus: Bus
    screeners: Mapping[str, TxScreener]
    # Transactions in flight: deep enough that the next batch arrives before this one is judged.
    concurrency: int = 128
    on_screened: OnScreened | None = None
    fetch_batch: int = FETCH_BATCH
    stats: ScreenStats = field(default_factory=ScreenStats)
    judged_seq: dict[str, int] = field(default_factory=dict)  # newest stream sequence judged, by network
    _refreshed: dict[str, int] = field(default_factory=dict)
    _idle_since: float = field(default_factory=time.monotonic)

    async def handle(self, msg: Msg) -> None:
        """Judge one delivery, publish its findings, acknowledge it (in that order)."""
        try:
            env = decode_tx(msg.data)
        except (ValueError, KeyError, TypeError) as exc:  # never judgeable: no redelivery either
            log.error("malformed transaction message dropped", error=repr(exc), data=msg.data[:200])
            await msg.term()
            return
        screener = self.screeners[env.network]
        if msg.metadata.num_delivered > 1:
            self.stats.redelivered += 1
            if await self.bus.judged(env.tx.hash):
                self.stats.already_judged += 1
                await msg.ack()
                return
        try:
            findings = await self._judge(screener, env)
        except SimulationFailed as exc:  # the node refused it: another worker would fare no better
            self.stats.failed += 1
            log.warning("transaction not simulated", tx=env.tx.hash, error=exc.user_message)
            await msg.ack()
            return
        except ChainError as exc:
            self.stats.retried += 1
            log.warning("screening failed; handed back", tx=env.tx.hash, error=exc.user_message)
            await msg.nak(delay=NAK_DELAY_S)
            return
        judged_at = time.time()
        meta = msg.metadata
        # Which delivery judged it: a finding seen twice is traced to a redelivery (or not) from
        # the findings stream alone.
        delivery = {"num_delivered": meta.num_delivered, "stream_seq": meta.sequence.stream,
                    "consumer_seq": meta.sequence.consumer}  # fmt: skip
        for f in findings:
            payload = {
                "network": env.network,
                "finding": finding_json(f),
                "seen_at": env.seen_at,
                "judged_at": judged_at,
                # The transaction itself: the responder outbids its fees.
                "envelope": encode_tx(env).decode(),
                "delivery": delivery,
            }
            if await self.bus.publish_finding(env.network, finding_key(env, f), payload):
                self.stats.findings += 1
            else:
                self.stats.duplicates += 1
        if findings:
            await self.bus.mark_judged(env.tx.hash)
        await self._ack(msg, env)
        self.stats.screened += 1
        seq = msg.metadata.sequence.stream
        if seq > self.judged_seq.get(env.network, 0):
            self.judged_seq[env.network] = seq
        if self.on_screened is not None:
            result = self.on_screened(env, findings)
            if result is not None:
                await result

    async def _ack(self, msg: Msg, env: TxEnvelope) -> None:
        """Acknowledge last: a worker that dies before this leaves the transaction to another."""
        await msg.ack()

    async def _judge(self, screener: TxScreener, env: TxEnvelope) -> list[Finding]:
        if env.block_hash is None:
            screener.note_pending(env.tx)
            return await screener.screen(env.tx)
        number = env.tx.block_number or 0
        if number > self._refreshed.get(env.network, -1):  # judge against that block's state
            with contextlib.suppress(ChainError):
                await screener.refresh(number)
            self._refreshed[env.network] = number
        return await screener.judge_mined(env.tx, number, env.block_hash)

    async def run(self, *, stop: asyncio.Event | None = None, idle_exit_s: float | None = None) -> None:
        """Pull and judge until ``stop`` is set (or, with ``idle_exit_s``, until nothing came for
        that long: a finite mode for benchmarks and tests)."""
        stop = stop or asyncio.Event()
        subs = [await self.bus.screen_subscription(n) for n in self.screeners]
        tasks: set[asyncio.Task[None]] = set()
        self._idle_since = time.monotonic()
        # Fetch in batches, and only once half the window is free: fetching one message per freed
        # slot would cost the broker a pull request per transaction.
        batch = max(1, min(self.fetch_batch, self.concurrency // 2))
        room = asyncio.Event()
        room.set()

        def finished(task: asyncio.Task[None]) -> None:
            tasks.discard(task)
            if self.concurrency - len(tasks) >= batch:
                room.set()

        async def one(msg: Msg) -> None:
            try:
                await self.handle(msg)
            except Exception as exc:  # never ack what was not judged: the broker redelivers it
                log.error("screening crashed; left for redelivery", error=repr(exc))

        async def pull(sub: Any) -> None:
            caught_up = True
            while not stop.is_set():
                await room.wait()
                # Caught up, ask for one: a pull for many that finds the queue empty waits until it
                # has them all (or times out), holding back the first one to arrive; one returns
                # as soon as a transaction does, and the next pull takes whatever queued meanwhile.
                # A pull for many is kept short for the same reason (another worker may have taken
                # the queue); only the pull for one waits long.
                want = 1 if caught_up else max(1, self.concurrency - len(tasks))
                try:
                    msgs = await sub.fetch(want, timeout=FETCH_TIMEOUT_S if want == 1 else BATCH_WAIT_S)
                except TimeoutError:
                    caught_up = True
                    idle = time.monotonic() - self._idle_since
                    if idle_exit_s is not None and not tasks and idle >= idle_exit_s:
                        stop.set()
                    continue
                except nats.errors.Error as exc:  # broker restarting: the client reconnects
                    log.warning("fetch failed; retrying", error=repr(exc))
                    await asyncio.sleep(0.2)
                    continue
                self._idle_since = time.monotonic()
                caught_up = want > 1 and len(msgs) < want
                for msg in msgs:
                    task = asyncio.create_task(one(msg))
                    tasks.add(task)
                    task.add_done_callback(finished)
                if self.concurrency - len(tasks) < batch:
                    room.clear()

        pullers = [asyncio.create_task(pull(s)) for s in subs]
        try:
            await asyncio.gather(*pullers)
        finally:
            for p in pullers:
                p.cancel()
            await asyncio.gather(*pullers, return_exceptions=True)
            if tasks:
                await asyncio.gather(*tasks, return_exceptions=True)
            for s in subs:
                with contextlib.suppress(Exception):
                    await s.unsubscribe()


async def run_ingest(
    bus: Bus,
    network: str,
    client: ChainClient,
    *,
    mempool: MempoolWatcher | None = None,
    heads: HeadWatcher | None = None,
    until_block: int | None = None,
    progress: dict[str, Any] | None = None,
) -> None:
    """Publish every pending transaction from ``mempool`` and every transaction of each confirmed
    head from ``heads``; with ``until_block``, stop once that block is published. ``progress``
    (a heartbeat's) gets the counts published and the newest block."""
    seen = progress if progress is not None else {}
    seen.setdefault("pending_published", 0)
    seen.setdefault("mined_published", 0)

    async def pending() -> None:
        assert mempool is not None
        async for p in mempool.stream():
            await bus.publish_tx(TxEnvelope(network, p.tx, time.time()))
            seen["pending_published"] += 1

    async def mined() -> None:
        assert heads is not None
        async for event in heads.events(until=until_block):
            if not isinstance(event, BlockProcessed):
                continue  # reorgs are followed by the watcher; a block is published once confirmed
            full = await client.get_block(event.block.hash, full=True)
            now = time.time()
            # Acknowledged by the broker before the watcher checkpoints this block.
            await asyncio.gather(
                *(bus.publish_tx(TxEnvelope(network, tx, now, event.block.hash)) for tx in full.transactions)
            )
            seen["mined_published"] += len(full.transactions)
            seen["block"] = full.number

    jobs = ([asyncio.create_task(pending())] if mempool is not None else []) + (
        [asyncio.create_task(mined())] if heads is not None else []
    )
    try:
        if until_block is not None and heads is not None:
            await jobs[-1]
        else:
            await asyncio.gather(*jobs)
    finally:
        for j in jobs:
            j.cancel()
        await asyncio.gather(*jobs, return_exceptions=True)


# -- wiring from configuration -----------------------------------------------------------------


def networks_named(config: BulwarkConfig, only: Sequence[str]) -> list[str]:
    """``only`` (default: every configured network), each checked against the configuration."""
    unknown = [n for n in only if n not in config.networks]
    if unknown:
        raise ConfigError(
            f"unknown network(s) {', '.join(unknown)}: the configuration has {', '.join(config.networks)}"
        )
    return list(only) or list(config.networks)


async def run_screen_role(
    config: BulwarkConfig, networks: Sequence[str] = (), *, on_screened: OnScreened | None = None
) -> ScreenStats:
    """``bulwark worker --role screen``: screen the configured monitors' networks until stopped."""
    cluster_urls(config)  # a one-line error before any node is asked, without a cluster section
    monitors = build_monitors(config)
    rpcs: list[BatchRpc] = []
    screeners: dict[str, Screener] = {}
    for name in networks_named(config, networks):
        mine = [m for m in monitors if config.protocols[m.protocol.name].network == name]
        if not mine:
            continue
        rpc = BatchRpc(config.networks[name].rpc_http.resolve())
        rpcs.append(rpc)
        screener = Screener(rpc, mine)
        await screener.refresh()
        screeners[name] = screener
    if not screeners:
        raise ConfigError("no monitor watches the chosen network(s): nothing to screen")
    bus = cluster_bus(config, "bulwark-screen")
    await bus.connect()
    for name, screener in screeners.items():
        # A sender's transactions reach whichever worker is free: its cumulative-outflow window is
        # kept on the bus (compare-and-set), so a slow drain split across workers is judged whole.
        screener.share(bus, name)
    worker = ScreenWorker(bus, screeners, on_screened=on_screened)
    settle_after_startup()
    beats = [Heartbeat(bus, "screen", n, role_consumer("screen", n), state="active") for n in screeners]

    def sample(beat: Heartbeat) -> None:
        st = worker.stats
        beat.progress.update(screened=st.screened, findings=st.findings, failed=st.failed,
                             judged_seq=worker.judged_seq.get(beat.scope, 0))  # fmt: skip

    try:
        async with contextlib.AsyncExitStack() as stack:
            for beat in beats:
                beat.sample = sample
                await stack.enter_async_context(beat.running())
            await worker.run()
    finally:
        await bus.close()
        for rpc in rpcs:
            await rpc.close()
    return worker.stats


async def run_ingest_role(config: BulwarkConfig, network: str, *, until_block: int | None = None) -> None:
    """``bulwark worker --role ingest --network NAME``: one publishes per network (store lease
    ``ingest:NAME``); a second stands by and takes over when the first stops renewing."""
    _, db_url, _, _ = cluster_urls(config)
    (name,) = networks_named(config, [network])
    net = config.networks[name]
    store = Store(db_url)

    async def active() -> None:
        ws = net.rpc_ws.resolve() if net.rpc_ws is not None and net.mempool == "subscribe" else None
        client = ChainClient(net.rpc_http.resolve(), ws_url=ws)
        heads = HeadWatcher(
            client,
            StoreCheckpoints(store),  # taken over with the lease: the standby resumes from here
            f"{name}-ingest",
            confirmations=net.confirmations,
            max_past_blocks=net.max_past_blocks,
            poll_interval_s=net.poll_interval_s,
        )
        mode: Literal["subscribe", "poll"] = "subscribe" if ws else "poll"
        mempool = (
            MempoolWatcher(client, mode=mode, poll_interval_s=net.poll_interval_s / 4)
            if net.mempool != "off"
            else None
        )
        beat.set_active()
        try:
            await run_ingest(bus, name, client, mempool=mempool, heads=heads, until_block=until_block,
                             progress=beat.progress)  # fmt: skip
        finally:
            beat.set_active(False)
            await client.close()

    bus = cluster_bus(config, f"bulwark-ingest-{name}")
    await bus.connect()
    beat = Heartbeat(bus, "ingest", name)
    try:
        async with beat.running():
            await holding_role(
                store, f"ingest:{name}", active, stop=asyncio.Event(), ttl_s=15.0, renew_s=5.0, poll_s=1.0
            )
    finally:
        await bus.close()
        store.close()


# -- respond: one active responder per protocol, under a lease ------------------------------------

# The active responder renews every LEASE_RENEW_S; a standby asks every STANDBY_POLL_S, so it takes
# over at most LEASE_TTL_S + STANDBY_POLL_S (1.75 s) after the active one's last renewal.
LEASE_TTL_S = 1.5
LEASE_RENEW_S = 0.5
STANDBY_POLL_S = 0.25

Act = Callable[[Finding, TxEnvelope | None], Awaitable[None]]


async def holding_role(
    store: Store,
    lease: str,
    body: Callable[[], Awaitable[None]],
    *,
    stop: asyncio.Event,
    on_active: Callable[[], None] | None = None,
    ttl_s: float = LEASE_TTL_S,
    renew_s: float = LEASE_RENEW_S,
    poll_s: float = STANDBY_POLL_S,
) -> None:
    """Stand by until ``lease`` is free, then run ``body`` while holding it; a lease lost (this
    process stalled past ``ttl_s``) stops ``body`` and goes back to standing by."""
    while not stop.is_set():
        try:
            async with holding_lease(store, lease, ttl_s=ttl_s, renew_s=renew_s) as lost:
                log.info("lease taken: active", lease=lease)
                if on_active is not None:
                    on_active()
                work: asyncio.Future[None] = asyncio.ensure_future(body())
                stopping: asyncio.Future[Any] = asyncio.ensure_future(stop.wait())
                try:
                    await asyncio.wait([work, lost, stopping], return_when=asyncio.FIRST_COMPLETED)
                finally:
                    for fut in (work, stopping):
                        fut.cancel()
                    await asyncio.gather(work, stopping, return_exceptions=True)
                if work.done() and not work.cancelled():
                    work.result()  # the body's own error, if it failed
                    return
                if lost.done() and not lost.cancelled():
                    log.error("lease lost: standing by again", lease=lease, error=repr(lost.exception()))
        except LeaseHeld:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), poll_s)


async def respond_loop(bus: Bus, network: str, protocol: str, act: Act) -> None:
    """Pull the network's findings; act on ``protocol``'s, in order, acknowledging each after."""
    sub = await bus.respond_subscription(network, protocol)
    try:
        while True:
            try:
                msgs = await sub.fetch(16, timeout=FETCH_TIMEOUT_S)
            except TimeoutError:
                continue
            except nats.errors.Error as exc:  # broker restarting: the client reconnects
                log.warning("fetch failed; retrying", error=repr(exc))
                await asyncio.sleep(0.2)
                continue
            for msg in msgs:
                payload = json.loads(msg.data)
                if payload["finding"].get("protocol") != protocol:
                    await msg.ack()  # another protocol's: its own responder has it
                    continue
                finding = finding_from_json(payload["finding"])
                env = decode_tx(payload["envelope"].encode()) if payload.get("envelope") else None
                try:
                    await act(finding, env)
                except Exception as exc:  # a failed containment is retried, never dropped
                    log.error("containment failed; retrying", tx=finding.tx_hash, error=repr(exc))
                    await msg.nak(delay=NAK_DELAY_S)
                    continue
                await msg.ack()
    finally:
        with contextlib.suppress(Exception):
            await sub.unsubscribe()


async def run_respond_role(
    config: BulwarkConfig,
    protocol: str,
    *,
    dry_run: bool = False,
    on_contained: Callable[[Containment], None] | None = None,
) -> None:
    """``bulwark worker --role respond --protocol NAME``: run any number; one acts at a time."""
    _, db_url, _, _ = cluster_urls(config)
    if protocol not in config.protocols:
        raise ConfigError(
            f"unknown protocol {protocol!r}: the configuration has {', '.join(config.protocols)}"
        )
    network = config.protocols[protocol].network
    store = Store(db_url)
    bus = cluster_bus(config, f"bulwark-respond-{protocol}")
    await bus.connect()
    stop = asyncio.Event()

    async def active() -> None:
        # Built once the lease is held: the relayer resyncs its nonce from the chain, so whatever
        # the previous holder sent is seen before this one sends.
        client = ChainClient(config.networks[network].rpc_http.resolve())
        responder = responder_from_config(config, client, dry_run=dry_run, store=store)
        responder.protected = {k: v for k, v in responder.protected.items() if k == protocol}
        await responder.start()

        async def act(finding: Finding, env: TxEnvelope | None) -> None:
            attack = env.tx if env is not None and not env.mined else None
            for c in await responder.respond(finding, attack):
                if on_contained is not None:
                    on_contained(c)
                if not c.dry_run:
                    await responder.settle(c)
            beat.progress["acted"] = beat.progress.get("acted", 0) + 1

        beat.set_active()
        try:
            await respond_loop(bus, network, protocol, act)
        finally:
            beat.set_active(False)
            await client.close()

    beat = Heartbeat(bus, "respond", protocol, role_consumer("respond", protocol))
    try:
        async with beat.running():
            await holding_role(store, f"respond:{protocol}", active, stop=stop)
    finally:
        await bus.close()
        store.close()
