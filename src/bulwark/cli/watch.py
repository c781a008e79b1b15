"""``bulwark watch -c bulwark.yaml``: run the watchers and detectors, print findings as they happen."""

from __future__ import annotations

import asyncio
import json
import signal
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Annotated, Any

import typer

from bulwark.app.contain import RecordingWatcher, responder_from_config
from bulwark.app.driver import IncidentDriver
from bulwark.app.intel import (
    ConsensusPause,
    ConsensusResponder,
    Subscriptions,
    consensus_responder_from_config,
)
from bulwark.app.notify import announcing, notifier_from_config
from bulwark.app.resume import resume_interrupted
from bulwark.chain.client import ChainClient, ChainIdMismatch
from bulwark.chain.mempool import BatchRpc, PendingTx
from bulwark.chain.watchers import (
    ChainIdGuard,
    CheckpointStore,
    FileCheckpointStore,
    HeadWatcher,
    LogWatcher,
)
from bulwark.cli.audit import anchor_sink, audit_key
from bulwark.cli.config import check_file
from bulwark.cli.roles import ROLE_HELP, Role, run_role
from bulwark.config import BulwarkConfig
from bulwark.detect.persist import StoreCheckpoints, holding_lease, recording
from bulwark.detect.report import finding_json
from bulwark.detect.screen import Screener
from bulwark.detect.service import DetectionService, Output, Raised, Rewound, Unjudged, Withdrawn
from bulwark.detect.setup import Monitor, build_monitors
from bulwark.errors import RpcUnreachable, StoreError, UsageError
from bulwark.flow import FlowEvent
from bulwark.heap import settle_after_startup
from bulwark.logs import get_logger, mask
from bulwark.notify import Notifier
from bulwark.respond import Containment, Responder
from bulwark.store import Store, default_url

log = get_logger(__name__)

LEASE_TTL_S = 30.0  # renewed every third of it: a killed watch is taken over within this


def _line(item: Output, as_json: bool) -> str:
    if isinstance(item, Unjudged):
        if as_json:
            return mask(json.dumps({"type": "unjudged", "network": item.network, "tx_hash": item.tx_hash,
                                    "block_number": item.block_number, "block_hash": item.block_hash,
                                    "reason": item.reason}))  # fmt: skip
        return mask(f"NOT JUDGED block {item.block_number} tx {item.tx_hash}: {item.reason}")
    if isinstance(item, Rewound):
        if as_json:
            return json.dumps({"type": item.kind, "network": item.network, "head": item.head,
                               "last_processed": item.last_processed,
                               "resume_after": item.resume_after})  # fmt: skip
        return (
            f"CHAIN {item.kind.upper()} on {item.network}: head {item.head} below/apart from block "
            f"{item.last_processed}; following from block {item.resume_after + 1}"
        )
    f = item.finding
    kind = "finding" if isinstance(item, Raised) else "withdrawn"
    if as_json:
        out: dict[str, Any] = {"type": kind, "finding": finding_json(f)}
        if isinstance(item, Raised) and item.latency_ms is not None:
            out["latency_ms"] = round(item.latency_ms, 3)
        if isinstance(item, Withdrawn):
            out["reason"] = item.reason
        return mask(json.dumps(out))
    where = "pending" if f.pending else f"block {f.block_number}"
    head = "WITHDRAWN " if kind == "withdrawn" else ""
    return mask(
        f"{head}{f.severity.name:<8} {f.detector:<30} {f.protocol}/{f.contract or '-'} {where} "
        f"tx {f.tx_hash}: {f.title} -> {f.action.value}"
    )


def _containment_line(c: Containment, as_json: bool) -> str:
    if as_json:
        return mask(
            json.dumps(
                {
                    "type": "containment",
                    "dry_run": c.dry_run,
                    "action": c.action.kind.value,
                    "describe": c.action.describe(),
                    "tx": c.tx_hash,
                    "covered_by": c.covered_by,
                    "attack_tx": c.attack_tx,
                    "tip_wei": c.fees.tip if c.fees else None,
                    "response_ms": c.response_ms,
                }
            )
        )
    verb = "WOULD " if c.dry_run else ""
    done = f"(already sent in {c.covered_by})" if c.covered_by else f"tx {c.tx_hash}"
    return mask(f"CONTAIN  {verb}{c.action.describe()} {done} against {c.attack_tx}")


def _contain_sink(
    responder: Responder,
    book: dict[str, PendingTx],
    as_json: bool,
    settling: set[asyncio.Task[Any]],
    guard: ChainIdGuard,
    on_settled: Callable[[], None] = lambda: None,
) -> Callable[[Output], Awaitable[None]]:
    async def sink(item: Output) -> None:
        typer.echo(_line(item, as_json))
        if not isinstance(item, Raised):
            return
        f = item.finding
        pending = book.get(f.tx_hash) if f.tx_hash else None
        if pending is not None and pending.tx.sender.lower() == responder.relayer.address.lower():
            return  # our own transaction
        await guard.check()  # never contain on another chain than the configured one
        for c in await responder.respond(
            f, pending.tx if pending else None, seen_at=pending.seen_at if pending else None
        ):
            typer.echo(_containment_line(c, as_json))
            if not c.dry_run:
                task = asyncio.create_task(responder.settle(c))
                settling.add(task)
                task.add_done_callback(settling.discard)
                task.add_done_callback(lambda _t: on_settled())  # the incident pipeline goes on

    return sink


def _consensus_sink(
    responder: ConsensusResponder, book: dict[str, PendingTx], as_json: bool, guard: ChainIdGuard
) -> Callable[[Output], Awaitable[None]]:
    """Consensus mode (``intel.consensus``): each pause the policy asks for is signed by k sentinels."""

    def line(p: ConsensusPause) -> str:
        if as_json:
            return json.dumps({"type": "consensus-pause", "target": p.target, "tx": p.tx_hash,
                               "signers": list(p.signers), "error": p.error,
                               "already_paused": p.already_paused})  # fmt: skip
        what = f"tx {p.tx_hash} signed by {len(p.signers)}" if p.tx_hash else f"NOT SENT: {p.error}"
        if p.already_paused:
            what = "already paused"
        return mask(f"CONSENSUS pause {p.target} {what}")

    async def sink(item: Output) -> None:
        typer.echo(_line(item, as_json))
        if not isinstance(item, Raised):
            return
        f = item.finding
        pending = book.get(f.tx_hash) if f.tx_hash else None
        if pending is not None and pending.tx.sender.lower() == responder.relayer.address.lower():
            return  # our own transaction
        await guard.check()  # never contain on another chain than the configured one
        for p in await responder.respond(f, pending.tx if pending else None):
            typer.echo(line(p))

    return sink


async def _check_chain_id(guard: ChainIdGuard, store: Store) -> None:
    """Refuse to start on a node of another chain (one line, audited). An unreachable node is not
    verified yet: the head watcher checks before judging a block, every containment before it is
    sent."""
    try:
        await guard.check()
    except RpcUnreachable as exc:
        log.warning("chain id not verified yet: node unreachable", network=guard.network,
                    error=exc.user_message)  # fmt: skip
    except ChainIdMismatch as exc:
        _audit_mismatch(store, guard.network, exc)
        raise


def _audit_mismatch(store: Store, network: str, exc: ChainIdMismatch) -> None:
    """A loud, durable record: watch stopped acting on ``network`` because of the chain id."""
    try:
        store.audit("chain.mismatch", {"network": network, "error": exc.user_message})
    except StoreError as err:
        log.error("chain id mismatch not recorded in the store", error=err.user_message)


def _open_store(config: BulwarkConfig, state_dir: Path, db: str | None) -> tuple[Store, CheckpointStore]:
    """The store findings go to, and where head checkpoints are kept: with a database URL (``--db``
    or ``database_url``) both live in that database; without one, findings go to SQLite in
    ``state_dir`` (where ``bulwark serve``/``audit`` look by default) and checkpoints to JSON files."""
    url = db or (config.database_url.resolve() if config.database_url is not None else None)
    key = audit_key(None, config)  # audit_key in bulwark.yaml: every entry keyed
    if url:
        store = Store(url, audit_key=key)
        return store, StoreCheckpoints(store)
    return Store(default_url(state_dir), audit_key=key), FileCheckpointStore(state_dir)


async def _watch(
    config: BulwarkConfig,
    state_dir: Path,
    as_json: bool,
    until_block: int | None,
    dry_run: bool = False,
    db: str | None = None,
) -> None:
    monitors = build_monitors(config)
    store, checkpoints = _open_store(config, state_dir, db)
    try:
        # One watch per store: a second one would judge, record and contain everything twice.
        async with holding_lease(store, ttl_s=LEASE_TTL_S, renew_s=LEASE_TTL_S / 3) as lost:
            await _first_of(_watch_leased(config, monitors, store, checkpoints, as_json, until_block,
                                          dry_run, state_dir), lost)  # fmt: skip
    finally:
        store.close()


async def _first_of(work: Awaitable[None], lost: asyncio.Future[None]) -> None:
    """``work``, stopped (raising ``LeaseHeld``) if the lease is lost first."""
    task = asyncio.ensure_future(work)
    try:
        await asyncio.wait([task, lost], return_when=asyncio.FIRST_COMPLETED)
        if lost.done() and not lost.cancelled():
            lost.result()
        await task
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


async def _watch_leased(
    config: BulwarkConfig,
    monitors: tuple[Monitor, ...],
    store: Store,
    checkpoints: CheckpointStore,
    as_json: bool,
    until_block: int | None,
    dry_run: bool,
    state_dir: Path,
) -> None:
    poller: asyncio.Task[None] | None = None
    try:
        # Every node must serve its configured chain before anything is sent, resumed or judged.
        chain_ids: dict[str, int | None] = {}
        for net_name, net in config.networks.items():
            async with ChainClient(net.rpc_http.resolve()) as client:
                guard = ChainIdGuard(client, net.chain_id, net_name)
                await _check_chain_id(guard, store)
                chain_ids[net_name] = guard.expected  # configured, or pinned to what the node serves
        # What a killed watch left short of containment is carried on before anything new.
        await resume_interrupted(config, store, dry_run=dry_run, echo=typer.echo)
        if config.intel is not None:  # subscriptions: verified indicators feed the detectors
            subs = Subscriptions.from_config(config, monitors, store)
            monitors = subs.monitors
            await subs.refresh()
            if subs.feeds:
                poller = asyncio.create_task(subs.keep_polling())
        await _watch_networks(
            config, monitors, store, checkpoints, as_json, until_block, dry_run, chain_ids, state_dir
        )
    finally:
        if poller is not None:
            poller.cancel()


async def _watch_networks(
    config: BulwarkConfig,
    monitors: tuple[Monitor, ...],
    store: Store,
    checkpoints: CheckpointStore,
    as_json: bool,
    until_block: int | None,
    dry_run: bool,
    chain_ids: dict[str, int | None],
    state_dir: Path,
) -> None:
    jobs = []
    notifier = notifier_from_config(config)
    if notifier is not None:  # the log's head goes out at each close and hourly: an outside copy
        store.set_anchor_sink(anchor_sink(notifier, keyed=store.audit_keyed))
    for net_name, net in config.networks.items():
        mine = tuple(m for m in monitors if config.protocols[m.protocol.name].network == net_name)
        if not mine:
            continue
        http = net.rpc_http.resolve()
        ws = net.rpc_ws.resolve() if net.rpc_ws is not None and net.mempool == "subscribe" else None
        client = ChainClient(http, ws_url=ws)
        # Checked on every new head and before every containment from here on.
        guard = ChainIdGuard(client, chain_ids.get(net_name, net.chain_id), net_name)
        rpc = BatchRpc(http)
        screener = Screener(rpc, mine)
        heads = HeadWatcher(
            client,
            checkpoints,
            f"{net_name}-heads",
            confirmations=net.confirmations,
            max_past_blocks=net.max_past_blocks,
            poll_interval_s=net.poll_interval_s,
            guard=guard,
        )
        book: dict[str, PendingTx] = {}
        mempool = (
            RecordingWatcher(
                client, book, mode="subscribe" if ws else "poll", poll_interval_s=net.poll_interval_s / 4
            )
            if net.mempool != "off" and any(m.mempool for m in mine)
            else None
        )
        logs = None
        if net.mined == "protected":
            watched = {a for m in mine for a in m.protocol.contracts}
            watched |= {a.address for m in mine for a in m.protocol.assets if a.address is not None}
            logs = LogWatcher(heads, sorted(watched))
        service = DetectionService(
            client, screener, heads=heads, mempool=mempool, logs=logs, network=net_name
        )
        sink: Callable[[Output], Any] = lambda item: typer.echo(_line(item, as_json))  # noqa: E731
        relay_client: ChainClient | None = None
        settling: set[asyncio.Task[Any]] = set()
        driver: IncidentDriver | None = None
        if config.responses is not None:
            # The relayer sends over an HTTP connection of its own, never the subscription's.
            relay_client = ChainClient(http)
            if config.intel is not None and config.intel.consensus is not None and not dry_run:
                consensus = await consensus_responder_from_config(config, relay_client, store=store)
                consensus.protected = {
                    k: v for k, v in consensus.protected.items() if config.protocols[k].network == net_name
                }
                sink = _consensus_sink(consensus, book, as_json, guard)
            else:
                responder = responder_from_config(config, relay_client, dry_run=dry_run, store=store)
                responder.protected = {
                    k: v for k, v in responder.protected.items() if config.protocols[k].network == net_name
                }
                await responder.start()
                driver = _driver(config, store, net_name, relay_client, responder, http, state_dir, as_json,
                                 notifier)  # fmt: skip
                sink = _contain_sink(responder, book, as_json, settling, guard, driver.poke)
        sink = announcing(notifier, recording(store, sink))

        async def run(
            service: DetectionService = service,
            client: ChainClient = client,
            rpc: BatchRpc = rpc,
            sink: Callable[[Output], Any] = sink,
            relay_client: ChainClient | None = relay_client,
            settling: set[asyncio.Task[Any]] = settling,
            net_name: str = net_name,
            driver: IncidentDriver | None = driver,
        ) -> None:
            stop = asyncio.Event()
            carrying = asyncio.create_task(driver.run(stop)) if driver is not None else None
            try:
                await service.run(sink, until_block=until_block)
                if settling:
                    await asyncio.gather(*settling, return_exceptions=True)
            except ChainIdMismatch as exc:
                _audit_mismatch(store, net_name, exc)
                raise
            finally:
                stop.set()
                if carrying is not None:
                    await asyncio.gather(carrying, return_exceptions=True)
                if notifier is not None:
                    await notifier.drain()
                await rpc.close()
                await client.close()
                if relay_client is not None:
                    await relay_client.close()

        jobs.append(run())
    if not jobs:
        typer.echo("no monitors configured: nothing to watch", err=True)
        return
    settle_after_startup()
    await asyncio.gather(*jobs)


def _flow_line(e: FlowEvent, as_json: bool) -> str:
    if as_json:
        return json.dumps({"type": "flow", "incident": e.incident_id, "step": e.step, "kind": e.kind,
                           "reason": e.reason, "seconds": round(e.seconds, 3),
                           "proposal_id": e.record.get("proposal_id")})  # fmt: skip
    why = f": {e.reason}" if e.reason else ""
    return mask(f"FLOW     {e.incident_id} {e.step} {e.kind}{why}")


def _driver(
    config: BulwarkConfig,
    store: Store,
    network: str,
    client: ChainClient,
    responder: Responder,
    rpc_url: str,
    state_dir: Path,
    as_json: bool,
    notifier: Notifier | None,
) -> IncidentDriver:
    """What carries a contained incident on: patch, verify, propose, wait for the owners, upgrade,
    resume. Protocols the configuration cannot patch and govern stay at containment (said once)."""

    async def started() -> Responder:
        return responder

    driver = IncidentDriver(
        config, store, network, client, responder.relayer.signer, started, workdir=state_dir / "candidates",
        rpc_url=rpc_url, notifier=notifier, on_event=lambda e: typer.echo(_flow_line(e, as_json)),
    )  # fmt: skip
    for name, missing in driver.unsupported.items():
        typer.echo(
            f"{name}: containment only; to patch and govern incidents add {'; '.join(missing)}", err=True
        )
    return driver


def register(app: typer.Typer) -> None:
    @app.command("watch")
    def watch(
        config: Annotated[Path, typer.Option("-c", "--config", help="The bulwark.yaml to run.")],
        as_json: Annotated[bool, typer.Option("--json", help="One JSON object per line.")] = False,
        state_dir: Annotated[
            Path, typer.Option("--state-dir", help="Where head checkpoints are kept.")
        ] = Path(".bulwark"),
        until_block: Annotated[
            int | None, typer.Option("--until-block", help="Stop after processing this block (replay mode).")
        ] = None,
        dry_run: Annotated[
            bool,
            typer.Option(
                "--dry-run", help="With a `responses` section: print what would be done, send nothing."
            ),
        ] = False,
        db: Annotated[
            str | None,
            typer.Option(
                "--db",
                help="Database URL for findings and checkpoints (default: the config's database_url, "
                "else SQLite findings and JSON checkpoints in --state-dir).",
                show_default=False,
            ),
        ] = None,
        role: Annotated[Role | None, typer.Option("--role", help=ROLE_HELP, show_default=False)] = None,
    ) -> None:
        """Watch heads, logs and the mempool; print every finding as it happens and, with a
        `responses` section, contain it through the guardian (Ctrl-C stops)."""
        cfg = check_file(config)  # fails closed, listing every problem, before anything connects
        if role is not None:  # scale-out: one role of the pipeline (bulwark.cli.roles)
            if db is not None:
                raise UsageError("--db is the embedded watch's; a role uses the cluster's database_url")
            run_role(
                cfg, role, as_json=as_json, dry_run=dry_run, until_block=until_block, state_dir=state_dir
            )
            return
        asyncio.run(_until_terminated(_watch(cfg, state_dir, as_json, until_block, dry_run, db)))


async def _until_terminated(work: Awaitable[None]) -> None:
    """``work``, cancelled on SIGTERM like on Ctrl-C, so the lease is released and clients closed."""
    task = asyncio.ensure_future(work)
    loop = asyncio.get_running_loop()
    try:
        loop.add_signal_handler(signal.SIGTERM, task.cancel)
        handled = True
    except (NotImplementedError, RuntimeError, ValueError):  # not the main thread, or no signals
        handled = False
    try:
        await task
    except asyncio.CancelledError:
        if task.cancelled():
            raise KeyboardInterrupt from None  # reported as an interruption by the CLI
        raise
    finally:
        if handled:
            loop.remove_signal_handler(signal.SIGTERM)
