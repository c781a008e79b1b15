"""The incident role (``bulwark watch --role incident``): the flow, carried by any number of processes.

Each process runs :class:`bulwark.app.driver.IncidentDriver` over the shared store, but an incident
is carried by one process at a time: its owner holds the store lease ``incident:<id>`` while it runs
the incident's flow, and gives it up when the incident is closed. The other processes stand by for
it: when the owner dies it stops renewing, and the first to ask after the lease expires (at once
when the owner's host can tell its pid is gone) carries the incident on from its last recorded step
(the flow records each step before acting on it, so nothing done is done again).

One process runs one flow at a time (as the embedded driver does): an incident it owns but has not
reached yet waits its turn, still owned.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, Protocol

from bulwark.app.broker import cluster_bus, cluster_urls
from bulwark.app.contain import responder_from_config
from bulwark.app.driver import IncidentDriver
from bulwark.app.roles import networks_named
from bulwark.app.status import Heartbeat, incident_lease
from bulwark.chain.client import ChainClient
from bulwark.config import BulwarkConfig
from bulwark.detect.persist import holding_lease
from bulwark.domain import IncidentState
from bulwark.errors import BulwarkError, ConfigError, LeaseHeld, StoreError
from bulwark.flow import FlowEvent
from bulwark.logs import get_logger
from bulwark.respond import Responder
from bulwark.store import Store

log = get_logger(__name__)

__all__ = ["INCIDENT_LEASE_TTL_S", "IncidentSource", "carry_incidents", "run_incident_role"]

# A flow step may hold the event loop for a while (a compile, a fork): the lease outlives that.
INCIDENT_LEASE_TTL_S = 30.0
INTERVAL_S = 2.0
_AT_REST = (IncidentState.CLOSED,)


class _Flow(Protocol):
    async def run(self, incident_id: str) -> IncidentState: ...


class IncidentSource(Protocol):
    """What the role needs of :class:`IncidentDriver`: the open incidents and each one's flow."""

    def open_incidents(self) -> list[str]: ...

    def flow(self, incident_id: str) -> _Flow: ...


async def carry_incidents(
    source: IncidentSource,
    store: Store,
    *,
    stop: asyncio.Event,
    ttl_s: float = INCIDENT_LEASE_TTL_S,
    interval_s: float = INTERVAL_S,
    on_owned: Callable[[str], None] | None = None,
    heartbeat: Heartbeat | None = None,
) -> None:
    """Until ``stop``: take each open incident nobody owns and carry it as far as it goes, again
    every ``interval_s`` while it waits on people (signatures, a timelock)."""
    owned: dict[str, asyncio.Task[None]] = {}  # asking for or holding the incident's lease
    held: set[str] = set()  # holding it
    turn = asyncio.Lock()  # one flow at a time in this process

    async def pause() -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), interval_s)

    async def carry(iid: str, lost: asyncio.Future[None]) -> None:
        while not stop.is_set():
            async with turn:
                run: asyncio.Future[IncidentState] = asyncio.ensure_future(source.flow(iid).run(iid))
                either: list[asyncio.Future[Any]] = [run, lost]
                await asyncio.wait(either, return_when=asyncio.FIRST_COMPLETED)
                if not run.done():  # the lease went to another process: it carries on from here
                    run.cancel()
                    await asyncio.gather(run, return_exceptions=True)
                    return
            try:
                state = run.result()
            except BulwarkError as exc:  # the chain went away mid-step, ...: try again later
                log.error("incident step could not run", incident=iid, error=exc.user_message)
            except Exception:  # a bug in one incident must not stop the others
                log.exception("incident step crashed", incident=iid)
            else:
                if state in _AT_REST:
                    return
            await pause()

    async def own(iid: str) -> None:
        try:
            async with holding_lease(store, incident_lease(iid), ttl_s=ttl_s, renew_s=ttl_s / 3) as lost:
                log.info("incident owned", incident=iid)
                held.add(iid)
                if on_owned is not None:
                    on_owned(iid)
                try:
                    await carry(iid, lost)
                finally:
                    held.discard(iid)
        except LeaseHeld:
            return  # another process owns it; asked again on the next round
        except StoreError as exc:
            log.warning("incident lease not taken", incident=iid, error=exc.user_message)

    try:
        while not stop.is_set():
            try:
                open_ids = await asyncio.to_thread(source.open_incidents)
            except StoreError as exc:
                log.warning("open incidents not read", error=exc.user_message)
                open_ids = []
            for iid in open_ids:
                task = owned.get(iid)
                if task is None or task.done():
                    owned[iid] = asyncio.create_task(own(iid))
            for iid in [i for i, t in owned.items() if t.done()]:
                del owned[iid]
            if heartbeat is not None:
                heartbeat.progress["owned"] = sorted(held)
                heartbeat.progress["open"] = len(open_ids)
                heartbeat.set_active(bool(held))
            await pause()
    finally:
        for task in owned.values():
            task.cancel()
        await asyncio.gather(*owned.values(), return_exceptions=True)


async def run_incident_role(
    config: BulwarkConfig,
    networks: Sequence[str] = (),
    *,
    workdir: str,
    on_event: Callable[[FlowEvent], None] | None = None,
    on_owned: Callable[[str], None] | None = None,
) -> None:
    """``bulwark watch --role incident``: carry the open incidents of ``networks`` (default: all)."""
    _, db_url, _, _ = cluster_urls(config)
    names = networks_named(config, networks)
    if config.responses is None:
        raise ConfigError(
            "the incident role needs a `responses` section: its relayer signs the flow's transactions"
        )
    store = Store(db_url)
    bus = cluster_bus(config, "bulwark-incident")
    await bus.connect()
    stop = asyncio.Event()
    clients: list[ChainClient] = []

    async def one(name: str) -> None:
        rpc_url = config.networks[name].rpc_http.resolve()
        client = ChainClient(rpc_url)
        clients.append(client)
        responder = responder_from_config(config, client, store=store)  # no I/O until started
        started = False

        async def contain() -> Responder:  # started on first use: most incidents arrive contained
            nonlocal started
            if not started:
                await responder.start()
                started = True
            return responder

        signer = responder.relayer.signer
        driver = IncidentDriver(config, store, name, client, signer, contain, workdir=Path(workdir) / name,
                                rpc_url=rpc_url, on_event=on_event)  # fmt: skip
        for proto, missing in driver.unsupported.items():
            log.warning("containment only", protocol=proto, to_patch_and_govern="; ".join(missing))
        beat = Heartbeat(bus, "incident", name)
        async with beat.running():
            await carry_incidents(driver, store, stop=stop, on_owned=on_owned, heartbeat=beat)

    try:
        await asyncio.gather(*(one(n) for n in names))
    finally:
        stop.set()
        for client in clients:
            await client.close()
        await bus.close()
        store.close()
