"""Scenarios under detection: ``bulwark scenario run NAME --protect detect`` and
``bulwark scenario benign --txs N --protect detect``.

The scenario runner (a stage) must not know about detection, so this module composes the runner's
building blocks with the detection stage: deploy, scenario set-up and benign traffic as the runner
does; then detection starts (WebSocket mempool subscription + screener) and the chain switches from
automine to *quiet mining*: a block is mined only once the pool has been still for ``quiet_s``, so
every attack transaction sits in the mempool as it would between real blocks, while a script's own
burst of sends and ``mine()`` (front-running set-ups) is never split.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from bulwark.chain import ChainClient
from bulwark.chain.mempool import BatchRpc, MempoolWatcher
from bulwark.detect.model import AssetInfo, ContractInfo, ProtocolModel
from bulwark.detect.registry import BUILTINS
from bulwark.detect.report import finding_json
from bulwark.detect.screen import Screener
from bulwark.detect.service import DetectionService, Output, Raised
from bulwark.detect.setup import Monitor
from bulwark.domain import Address, Finding, Severity, TxHash
from bulwark.scenarios.attack import World, receipts
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
from bulwark.toolchain.anvil import Anvil
from bulwark.toolchain.solc import Compiler

KINDS = {"oracle": "oracle", "pool": "amm", "lending": "lending", "vault": "vault", "flash": "flash-lender"}


def protocol_model(world: World, name: str = "demo") -> ProtocolModel:
    """The protected protocol of a scenario world: every component (extra ones too), the tokens
    they hold, and who holds which role."""
    p: DemoProtocol = world.protocol
    contracts: dict[Address, ContractInfo] = {}
    for cname, comp in p.components.items():
        contracts[comp.proxy] = ContractInfo(cname, comp.proxy, KINDS.get(cname, "generic"), tuple(comp.abi))
    tokens = {**p.tokens, **world.tokens}
    for tname, tok in tokens.items():
        contracts.setdefault(tok.address, ContractInfo(tname, tok.address, "token", tuple(tok.abi)))
    holders = tuple(c.proxy for c in p.components.values())
    assets = tuple(AssetInfo(tname, tok.address, 18, holders) for tname, tok in tokens.items())
    roles = {
        "admin": frozenset({p.timelock.address}),
        "upgrader": frozenset({p.timelock.address}),
        "pauser": frozenset({p.guardian.address}),
        "oracle": frozenset({p.feeder.address}),
    }
    return ProtocolModel(name, contracts, assets, roles)


def scenario_monitor(world: World) -> Monitor:
    return Monitor(
        "scenario", protocol_model(world), tuple(cls() for cls in BUILTINS), cooldown_s=300, mempool=True
    )


@dataclass(slots=True)
class _Seen:
    finding: Finding
    latency_ms: float | None
    before_inclusion: bool
    at: float


@dataclass(slots=True)
class Detection:
    """Detection running next to a scenario on one anvil."""

    node: Anvil
    monitor: Monitor
    quiet_s: float = 0.3
    seen: list[_Seen] = field(default_factory=list)
    _pending_at_finding: dict[tuple[str | None, float | None], bool] = field(default_factory=dict)
    _tasks: list[asyncio.Task[None]] = field(default_factory=list)
    _client: ChainClient | None = None
    _rpc: BatchRpc | None = None
    screener: Screener | None = None

    async def start(self) -> None:
        self._client = ChainClient(self.node.http_url, ws_url=self.node.ws_url)
        self._rpc = BatchRpc(self.node.http_url)
        self.screener = Screener(self._rpc, [self.monitor])
        watcher = MempoolWatcher(self._client, poll_interval_s=0.05)
        service = DetectionService(self._client, self.screener, mempool=watcher)
        self._tasks.append(asyncio.create_task(service.run(self._sink)))
        self._tasks.append(asyncio.create_task(self._refresh_loop()))
        await asyncio.sleep(0.3)  # let the subscription open before anything is sent

    async def _sink(self, item: Output) -> None:
        if not isinstance(item, Raised):
            return
        f = item.finding
        # Findings of one screening are produced together: the first one's inclusion check holds
        # for all of them (checking each in turn would measure the sink, not detection).
        key = (f.tx_hash, item.latency_ms)
        if key not in self._pending_at_finding:
            receipt = await self._client.get_receipt(f.tx_hash) if self._client and f.tx_hash else None
            self._pending_at_finding[key] = f.pending and receipt is None
        self.seen.append(_Seen(f, item.latency_ms, self._pending_at_finding[key], time.perf_counter()))

    async def _refresh_loop(self) -> None:
        assert self._client is not None and self.screener is not None
        last = -1
        while True:
            head = await self._client.block_number()
            if head != last:
                await self.screener.refresh(head)
                last = head
            await asyncio.sleep(0.02)

    async def quiet_mining(self) -> None:
        """Mine once the pool has been still for ``quiet_s`` (runs until cancelled)."""
        assert self._client is not None
        await self._client.set_automine(False)
        last_count, since = -1, time.perf_counter()
        while True:
            status = await self._client.request("txpool_status")
            count = int(status.get("pending", "0x0"), 16)
            now = time.perf_counter()
            if count != last_count:
                last_count, since = count, now
            elif count and now - since >= self.quiet_s:
                await self._client.mine()
                last_count = -1
            await asyncio.sleep(0.03)

    def start_mining(self) -> None:
        self._tasks.append(asyncio.create_task(self.quiet_mining()))

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._client is not None:
            await self._client.set_automine(True)
            await self._client.close()
        if self._rpc is not None:
            await self._rpc.close()


async def run_detect_async(
    scenario: Scenario, options: RunOptions, node: Anvil, client: ChainClient, compiler: Compiler
) -> dict[str, Any]:
    started = time.perf_counter()
    ctx, attack, impl_label = await prepare_scenario(scenario, options, client, node.accounts, compiler)
    traffic = BenignTraffic(
        client, ctx.protocol, compiler, seed=options.seed, exclude=scenario.benign_exclude
    )
    benign = await traffic.run(options.benign_txs)

    detection = Detection(node, scenario_monitor(ctx.world))
    await detection.start()
    detection.start_mining()
    try:
        before = await measure_holdings(client, ctx.world)
        hashes = [TxHash(h) for h in await attack(ctx)]
        after = await measure_holdings(client, ctx.world, with_prices=False)
        await asyncio.sleep(0.1)  # findings already in flight
    finally:
        await detection.stop()
    sent = await receipts(client, hashes)
    loss, drained = loss_between(before, after)
    on_attack = [s for s in detection.seen if s.finding.tx_hash in set(hashes)]
    latencies = [s.latency_ms for s in on_attack if s.latency_ms is not None and s.before_inclusion]
    classes = sorted({s.finding.vuln_class.value for s in on_attack})
    # The bar: a finding of the scenario's own class, raised while the attack was still pending.
    matched = any(s.before_inclusion and s.finding.vuln_class == scenario.vuln_class for s in on_attack)
    return {
        "scenario": scenario.name,
        "class": scenario.vuln_class.value,
        "protect": "detect",
        "implementation": impl_label,
        "attack_succeeded": loss > 0,
        "loss_wei": loss,
        "drained": dict(drained),
        "attack_txs": list(hashes),
        "reverted_attack_txs": [s.tx_hash for s in sent if not s.ok],
        "benign": benign.to_json(),
        "detected": bool(on_attack),
        "detected_before_inclusion": any(s.before_inclusion for s in on_attack),
        "detection_latency_ms": round(min(latencies), 3) if latencies else None,
        "class_matched": matched,
        "finding_classes": classes,
        "findings": [
            finding_json(s.finding) | {"before_inclusion": s.before_inclusion} for s in detection.seen
        ],
        "seconds": {"total": round(time.perf_counter() - started, 3)},
    }


def run_scenario_detect(
    scenario: Scenario, options: RunOptions | None = None, *, compiler: Compiler | None = None
) -> dict[str, Any]:
    """Fresh anvil, the scenario run with detection; the runner's JSON plus the detection keys."""
    opts = options or RunOptions()
    return on_fresh_chain(
        lambda node, client, comp: run_detect_async(scenario, opts, node, client, comp), compiler
    )


async def run_benign_detect_async(
    txs: int, node: Anvil, client: ChainClient, compiler: Compiler, *, seed: int = 0
) -> dict[str, Any]:
    protocol = await deploy_protocol(client, compiler, node.accounts)
    world = World(protocol=protocol)
    traffic = BenignTraffic(client, protocol, compiler, seed=seed)
    detection = Detection(node, scenario_monitor(world))
    await detection.start()
    try:
        report = await traffic.run(txs)
        await asyncio.sleep(0.3)
    finally:
        await detection.stop()
    by_severity = {s.name.lower(): 0 for s in Severity}
    for s in detection.seen:
        by_severity[s.finding.severity.name.lower()] += 1
    stats = detection.screener.stats if detection.screener else None
    # The benign report's own keys, plus what detection saw (``findings_by_severity``).
    return report.to_json() | {
        "protect": "detect",
        "findings_by_severity": by_severity,
        "findings": [finding_json(s.finding) for s in detection.seen],
        "screened": stats.screened if stats else 0,
        "simulated": stats.simulated if stats else 0,
        "simulation_failures": stats.failures if stats else 0,
    }


def run_benign_detect(txs: int, *, seed: int = 0, compiler: Compiler | None = None) -> dict[str, Any]:
    return on_fresh_chain(
        lambda node, client, comp: run_benign_detect_async(txs, node, client, comp, seed=seed), compiler
    )


__all__: Sequence[str] = (
    "KINDS",
    "Detection",
    "protocol_model",
    "run_benign_detect",
    "run_scenario_detect",
    "scenario_monitor",
)
