"""Scenarios under containment: ``bulwark scenario run NAME --protect contain`` (and benign
traffic under containment, for the false-pause bar).

Composition only: the scenario runner's building blocks, detection as ``--protect detect`` runs
it (:mod:`bulwark.lab.protect`: WebSocket mempool subscription, screener, quiet mining), and the
respond stage, whose relayer sends over its own HTTP connection with the demo sentinel key. A
finding on a pending transaction reaches the :class:`~bulwark.respond.Responder` straight from
the detection sink, with the pending transaction (its fees, to outbid) and the moment it arrived.
"""

from __future__ import annotations

import asyncio
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bulwark.chain import ChainClient, Signer
from bulwark.chain.relayer import Relayer
from bulwark.chain.timelock import is_paused
from bulwark.detect.report import finding_json
from bulwark.detect.service import Output, Raised, Sink
from bulwark.domain import Address, TxHash
from bulwark.lab.demo import HOLDS
from bulwark.lab.protect import Detection, scenario_monitor
from bulwark.logs import get_logger
from bulwark.respond import (
    DEFAULT_POLICY,
    Containment,
    Outcome,
    ProtectedSet,
    Responder,
    ResponsePolicy,
)
from bulwark.scenarios.attack import ScenarioContext, World, receipts
from bulwark.scenarios.benign import BenignTraffic
from bulwark.scenarios.corpus import Scenario
from bulwark.scenarios.deploy import deploy_protocol
from bulwark.scenarios.protocol import DemoProtocol
from bulwark.scenarios.runner import (
    RunOptions,
    loss_between,
    measure_holdings,
    on_fresh_chain,
    prepare_scenario,
)
from bulwark.store import Store
from bulwark.toolchain.anvil import Anvil
from bulwark.toolchain.solc import Compiler

log = get_logger(__name__)

AfterContainment = Callable[[ScenarioContext, list[TxHash], dict[str, Any]], Awaitable[dict[str, Any]]]

__all__ = [
    "Containing",
    "protected_set",
    "run_benign_contain",
    "run_contain_async",
    "run_scenario_contain",
]


def protected_set(world: World, name: str = "demo") -> ProtectedSet:
    """Every component of the scenario's protocol (extra ones too) and the tokens each holds."""
    p: DemoProtocol = world.protocol
    targets = tuple(c.proxy for c in p.components.values())
    assets = {
        c.proxy: tuple(p.tokens[t].address for t in HOLDS.get(cname, ()) if t in p.tokens)
        for cname, c in p.components.items()
    }
    return ProtectedSet(name, p.guardian.address, targets, assets)


@dataclass(slots=True)
class Containing(Detection):
    """Detection (as ``--protect detect``) whose findings go to the responder first."""

    responder: Responder | None = None
    _relay_client: ChainClient | None = None

    async def start_responder(
        self, protocol: DemoProtocol, world: World, policy: ResponsePolicy, store: Store | None
    ) -> Responder:
        # The relayer's own HTTP connection: never the subscription's socket.
        self._relay_client = ChainClient(self.node.http_url)
        relayer = Relayer(self._relay_client, Signer(protocol.sentinel.private_key))
        self.responder = Responder(relayer, [protected_set(world)], policy=policy, store=store)
        await self.responder.start()
        self.spawn("base-fee", self._fee_loop(relayer))
        return self.responder

    async def _fee_loop(self, relayer: Relayer) -> None:
        while True:
            await asyncio.sleep(0.25)
            try:
                await relayer.refresh_base_fee()
            except Exception as exc:  # a failed refresh keeps the last value; the next round retries
                log.debug("base fee refresh failed", error=str(exc))

    def _service_sink(self) -> Sink:
        return self._contain_sink

    async def _contain_sink(self, item: Output) -> None:
        if isinstance(item, Raised) and self.responder is not None:
            f = item.finding
            pending = self.book.get(f.tx_hash) if f.tx_hash else None
            own = pending is not None and pending.tx.sender.lower() == self.responder.relayer.address.lower()
            if not own:
                await self.responder.respond(
                    f, pending.tx if pending else None, seen_at=pending.seen_at if pending else None
                )
        await self._sink(item)

    async def stop(self) -> None:
        try:
            await Detection.stop(self)
        finally:
            if self._relay_client is not None:
                await self._relay_client.close()


def _summary(outcomes: list[Outcome], attack_hashes: list[TxHash]) -> dict[str, Any]:
    sent = [o for o in outcomes if o.containment.tx_hash and not o.containment.covered_by]
    triggered = [o for o in sent if o.containment.attack_tx in set(attack_hashes)] or sent
    first = min(
        triggered,
        key=lambda o: (
            attack_hashes.index(o.containment.attack_tx) if o.containment.attack_tx in attack_hashes else 99
        ),
        default=None,
    )
    latencies = [o.containment.response_ms for o in sent if o.containment.response_ms is not None]
    return {
        "paused_before_attack": bool(
            first and first.ok and first.ordering in ("before-same-block", "earlier-block")
        ),
        "response_latency_ms": round(min(latencies), 3) if latencies else None,
        "pause_tx": first.containment.tx_hash if first else None,
        "pause_ordering": first.ordering if first else None,
        "containments": [o.to_json() for o in outcomes],
    }


async def run_contain_async(
    scenario: Scenario,
    options: RunOptions,
    node: Anvil,
    client: ChainClient,
    compiler: Compiler,
    *,
    policy: ResponsePolicy = DEFAULT_POLICY,
    store: Store | None = None,
    then: AfterContainment | None = None,
    on_prepared: Callable[[ScenarioContext], Awaitable[None]] | None = None,
) -> dict[str, Any]:
    """Run ``scenario`` under containment; ``then`` continues the incident (``--protect full``)
    on the same chain once the attack window has closed, and adds its keys to the result.
    ``on_prepared`` sees the deployed world before anything is watched or sent (so that what a
    restart needs is recorded before a pause can open an incident)."""
    started = time.perf_counter()
    ctx, attack, impl_label = await prepare_scenario(scenario, options, client, node.accounts, compiler)
    if on_prepared is not None:
        await on_prepared(ctx)
    traffic = BenignTraffic(
        client, ctx.protocol, compiler, seed=options.seed, exclude=scenario.benign_exclude
    )
    benign = await traffic.run(options.benign_txs)

    guard = Containing(node, scenario_monitor(ctx.world))
    await guard.start()
    responder = await guard.start_responder(ctx.protocol, ctx.world, policy, store)
    guard.start_mining()
    try:
        before = await measure_holdings(client, ctx.world)
        hashes = [TxHash(h) for h in await attack(ctx)]
        after = await measure_holdings(client, ctx.world, with_prices=False)
        await asyncio.sleep(0.1)  # findings (and responses) already in flight
        outcomes = await asyncio.wait_for(responder.settle_all(timeout_s=20), 30)
    finally:
        await guard.stop()
    sent = await receipts(client, hashes)
    loss, drained = loss_between(before, after)
    out: dict[str, Any] = {
        "scenario": scenario.name,
        "class": scenario.vuln_class.value,
        "protect": "contain",
        "implementation": impl_label,
        "attack_succeeded": loss > 0,
        "loss_wei": loss,
        "drained": dict(drained),
        "attack_txs": list(hashes),
        "reverted_attack_txs": [s.tx_hash for s in sent if not s.ok],
        "benign": benign.to_json(),
        **_summary(outcomes, hashes),
        "findings": [finding_json(s.finding) | {"before_inclusion": s.before_inclusion} for s in guard.seen],
        "sentinel": Address(ctx.protocol.sentinel.address),
        "seconds": {"total": round(time.perf_counter() - started, 3)},
    }
    if then is not None:
        out.update(await then(ctx, hashes, out))
        out["seconds"]["total"] = round(time.perf_counter() - started, 3)
    return out


def _temp_store() -> Store:
    path = Path(tempfile.mkdtemp(prefix="bulwark-contain-")) / "bulwark.db"
    store = Store(f"sqlite:///{path}")
    store.migrate()
    return store


def run_scenario_contain(
    scenario: Scenario,
    options: RunOptions | None = None,
    *,
    compiler: Compiler | None = None,
    store: Store | None = None,
    policy: ResponsePolicy = DEFAULT_POLICY,
) -> dict[str, Any]:
    """Fresh anvil, the scenario run under detection + containment; the incidents go to ``store``
    (a throw-away SQLite file when none is given)."""
    opts = options or RunOptions()
    st = store or _temp_store()
    try:
        out = on_fresh_chain(
            lambda node, client, comp: run_contain_async(
                scenario, opts, node, client, comp, policy=policy, store=st
            ),
            compiler,
        )
        out["incidents"] = [
            {"id": i.id, "state": i.state.value, "title": i.title, "actions": len(st.actions(i.id))}
            for i in st.incidents()
        ]
        return out
    finally:
        if store is None:
            st.close()


async def run_benign_contain_async(
    txs: int, node: Anvil, client: ChainClient, compiler: Compiler, *, seed: int = 0
) -> dict[str, Any]:
    protocol = await deploy_protocol(client, compiler, node.accounts)
    world = World(protocol=protocol)
    guard = Containing(node, scenario_monitor(world))
    await guard.start()
    responder = await guard.start_responder(protocol, world, DEFAULT_POLICY, None)
    try:
        report = await BenignTraffic(client, protocol, compiler, seed=seed).run(txs)
        await asyncio.sleep(0.3)
    finally:
        await guard.stop()
    paused = {name: await is_paused(client, c.proxy) for name, c in protocol.components.items()}
    return {
        "benign": report.to_json(),
        "containments": len([c for c in responder.containments if c.tx_hash]),
        "actions": [_brief(c) for c in responder.containments],
        "paused": paused,
        "findings": len(guard.seen),
    }


def _brief(c: Containment) -> dict[str, Any]:
    return {"action": c.action.describe(), "finding": c.finding.title, "tx": c.tx_hash}


def run_benign_contain(txs: int, *, seed: int = 0, compiler: Compiler | None = None) -> dict[str, Any]:
    return on_fresh_chain(
        lambda node, client, comp: run_benign_contain_async(txs, node, client, comp, seed=seed), compiler
    )
