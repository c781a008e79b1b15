"""Who runs where in a scaled-out Bulwark (``bulwark status``).

Every role process (:mod:`bulwark.app.roles`, :mod:`bulwark.app.incident_role`) writes a heartbeat
into the bus's roles bucket every ``ROLE_BEAT_S``: its role, host, pid, what it serves (a network or
a protocol), whether it is active or standing by, and its progress. An entry a process stopped
writing expires with the bucket's TTL; one older than ``STALE_AFTER_S`` is shown as stale.

A role's **lag** is what its consumer has not acknowledged yet: transactions (screen) or findings
(respond) published on its subjects and not yet judged or acted on, read from the broker (the
consumer's pending plus unacknowledged counts), so every process of one consumer shows the same.
Leases (who is active for a network, a protocol, an incident) are read from the store.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import socket
import time
from collections.abc import AsyncIterator, Callable, Iterable
from dataclasses import asdict, dataclass, field
from typing import Any

import nats

from bulwark.app.broker import cluster_bus, cluster_urls
from bulwark.chain.bus import FINDINGS_STREAM, TX_STREAM, Bus, respond_consumer, screen_consumer
from bulwark.config import BulwarkConfig
from bulwark.detect.persist import WATCH_LEASE
from bulwark.domain import IncidentState
from bulwark.errors import BulwarkError, ConfigError, StoreError
from bulwark.logs import get_logger
from bulwark.store import Store

log = get_logger(__name__)

__all__ = [
    "ClusterStatus",
    "Heartbeat",
    "LeaseView",
    "RoleView",
    "cluster_status",
    "incident_lease",
    "lease_names",
]

ROLE_BEAT_S = 2.0
STALE_AFTER_S = 3 * ROLE_BEAT_S
CLOSED_STATES = (IncidentState.CLOSED,)


def incident_lease(incident_id: str) -> str:
    """The store lease its owner holds while carrying an incident through the flow."""
    return f"incident:{incident_id}"


def _key_part(text: str) -> str:
    return re.sub(r"[^-_=a-zA-Z0-9]", "_", text) or "_"


@dataclass(slots=True)
class Heartbeat:
    """This process's entry in the roles bucket, written every ``interval_s`` while running."""

    bus: Bus
    role: str
    scope: str  # the network or protocol served ("*": all the configuration's)
    consumer: tuple[str, str] | None = None  # (stream, durable): its backlog is this role's lag
    state: str = "standby"  # active (holds its lease or pulls work) or standby
    progress: dict[str, Any] = field(default_factory=dict)  # role-specific counters
    sample: Callable[[Heartbeat], None] | None = None  # refreshes ``progress`` before each beat
    interval_s: float = ROLE_BEAT_S
    host: str = field(default_factory=socket.gethostname)
    pid: int = field(default_factory=os.getpid)
    started_at: float = field(default_factory=time.time)

    @property
    def key(self) -> str:
        return f"{_key_part(self.role)}.{_key_part(self.host)}.{self.pid}.{_key_part(self.scope)}"

    def entry(self) -> dict[str, Any]:
        if self.sample is not None:
            self.sample(self)
        return {
            "role": self.role, "host": self.host, "pid": self.pid, "scope": self.scope,
            "state": self.state, "started_at": self.started_at, "last_seen": time.time(),
            "consumer": list(self.consumer) if self.consumer else None, "progress": dict(self.progress),
        }  # fmt: skip

    async def beat(self) -> None:
        """One write; a broker that is away (restarting) costs a missed beat, never the role."""
        try:
            await asyncio.wait_for(self.bus.beat(self.key, self.entry()), self.interval_s)
        except (TimeoutError, nats.errors.Error, BulwarkError) as exc:
            log.debug("heartbeat not written", key=self.key, error=repr(exc))

    def set_active(self, active: bool = True) -> None:
        self.state = "active" if active else "standby"

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator[Heartbeat]:
        """Beat while the body runs; the entry is removed when it ends (a killed process's expires)."""

        async def loop() -> None:
            while True:
                await self.beat()
                await asyncio.sleep(self.interval_s)

        task = asyncio.create_task(loop())
        try:
            yield self
        finally:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self.bus.forget(self.key), 2.0)


# -- reading it back --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RoleView:
    role: str
    host: str
    pid: int
    scope: str
    state: str
    last_seen: float
    age_s: float
    stale: bool
    lag: int | None  # None: not measured for this role
    progress: dict[str, Any]


@dataclass(frozen=True, slots=True)
class LeaseView:
    name: str
    holder: str | None  # host:pid:nonce, None when free
    expires_at: str | None
    role: str | None  # the role process holding it, when it beats


@dataclass(frozen=True, slots=True)
class ClusterStatus:
    roles: tuple[RoleView, ...]
    leases: tuple[LeaseView, ...]

    def to_json(self) -> dict[str, Any]:
        return {"roles": [asdict(r) for r in self.roles], "leases": [asdict(x) for x in self.leases]}


def lease_names(config: BulwarkConfig, incident_ids: Iterable[str]) -> list[str]:
    """Every lease a cluster running ``config`` can hold: the embedded watch's, one ingest per
    network, one responder per protocol, one owner per open incident."""
    return [
        WATCH_LEASE,
        *(f"ingest:{n}" for n in config.networks),
        *(f"respond:{p}" for p in config.protocols),
        *(incident_lease(i) for i in incident_ids),
    ]


async def _roles(bus: Bus, now: float) -> list[RoleView]:
    lag_cache: dict[tuple[str, str], int | None] = {}
    out: list[RoleView] = []
    for e in await bus.beats():
        consumer = tuple(e["consumer"]) if e.get("consumer") else None
        lag: int | None = None
        if consumer is not None:
            key = (str(consumer[0]), str(consumer[1]))
            if key not in lag_cache:
                lag_cache[key] = await bus.backlog(*key)
            lag = lag_cache[key]
        age = max(0.0, now - float(e["last_seen"]))
        progress = dict(e.get("progress") or {})
        view = RoleView(str(e["role"]), str(e["host"]), int(e["pid"]), str(e["scope"]), str(e["state"]),
                        float(e["last_seen"]), round(age, 1), age > STALE_AFTER_S, lag, progress)  # fmt: skip
        out.append(view)
    return sorted(out, key=lambda r: (r.role, r.scope, r.host, r.pid))


def _leases(store: Store, names: list[str], roles: list[RoleView]) -> list[LeaseView]:
    by_process = {(r.host, r.pid): r.role for r in roles}
    out = []
    for name in names:
        held = store.lease_holder(name)
        if held is None:
            out.append(LeaseView(name, None, None, None))
            continue
        holder, expires = held
        host, _, rest = holder.partition(":")
        pid = rest.partition(":")[0]
        role = by_process.get((host, int(pid))) if pid.isdigit() else None
        out.append(LeaseView(name, holder, expires.isoformat(), role))
    return out


def _open_incidents(store: Store) -> list[str]:
    return [i.id for i in store.incidents() if i.state not in CLOSED_STATES]


async def cluster_status(config: BulwarkConfig) -> ClusterStatus:
    """Read every role's heartbeat and lag from the broker and every lease from the store (one
    ``BulwarkError`` naming the server when either cannot be reached)."""
    if config.cluster is None:
        raise ConfigError(
            "`bulwark status` reads a scaled-out Bulwark: add a `cluster` section (nats_url, "
            "database_url) to the configuration"
        )
    bus = cluster_bus(config, "bulwark-status")
    await bus.connect()
    try:
        roles = await _roles(bus, time.time())
    finally:
        await bus.close()
    _, db_url, _, _ = cluster_urls(config)
    try:
        store = await asyncio.to_thread(Store, db_url)
    except BulwarkError:
        raise
    except Exception as exc:  # the driver's own error: one line naming the server, not a traceback
        raise StoreError(
            f"the cluster database did not answer ({type(exc).__name__}); start PostgreSQL or fix "
            "cluster.database_url"
        ) from exc
    try:
        incidents = await asyncio.to_thread(_open_incidents, store)
        leases = await asyncio.to_thread(_leases, store, lease_names(config, incidents), roles)
    finally:
        store.close()
    return ClusterStatus(tuple(roles), tuple(leases))


def role_consumer(role: str, scope: str) -> tuple[str, str] | None:
    """The consumer whose backlog is ``role``'s lag (screen: its network's transactions; respond:
    its protocol's findings)."""
    if role == "screen":
        return (TX_STREAM, screen_consumer(scope))
    if role == "respond":
        return (FINDINGS_STREAM, respond_consumer(scope))
    return None
