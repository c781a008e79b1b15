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
from collections.abc import Awaitable, Callable, Coroutine, Sequence
from dataclasses import dataclass, field
from typing import Any

from bulwark.app.contain import RecordingWatcher
from bulwark.chain import ChainClient
from bulwark.chain.client import Outage
from bulwark.chain.mempool import BatchRpc, MempoolWatcher, PendingTx
from bulwark.detect.model import AssetInfo, ContractInfo, ProtocolModel
from bulwark.detect.registry import BUILTINS
from bulwark.detect.report import finding_json
from bulwark.detect.screen import Screener
from bulwark.detect.service import DetectionService, Output, Raised, Sink
from bulwark.detect.setup import Monitor
from bulwark.domain import Address, Finding, Severity, TxHash
from bulwark.errors import BulwarkError, ChainError, ScenarioError
from bulwark.logs import get_logger
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

log = get_logger(__name__)

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


# Background loops that end by themselves once stop() asks (between two requests: a request cut
# off by a cancellation may still reach the node after stop() has switched automine back on).
_GRACEFUL = frozenset({"quiet-mining", "state-refresh"})


def _failure(task: asyncio.Task[None]) -> str | None:
    """What ended ``task`` (one line), or None when it was cancelled or ended normally."""
    if task.cancelled():
        return None
    exc = task.exception()
    if exc is None:
        return None
    message = exc.user_message if isinstance(exc, BulwarkError) else f"{type(exc).__name__}: {exc}"
    return f"{task.get_name()}: {message}"


@dataclass(slots=True)
class Detection:
    """Detection running next to a scenario on one anvil.

    Its background tasks (the detection service, the state refresh, quiet mining) never die
    silently: a transient ChainError is retried with a short backoff (for ``give_up_s`` at most),
    anything else is logged when it happens and raised by :meth:`stop` as a ScenarioError. Every
    wait is bounded: :meth:`start` waits up to ``ready_timeout_s`` for the mempool to be watched,
    :meth:`stop` up to ``stop_timeout_s`` for the tasks to end."""

    node: Anvil
    monitor: Monitor
    quiet_s: float = 0.3
    give_up_s: float = 30.0
    ready_timeout_s: float = 30.0
    stop_timeout_s: float = 30.0
    seen: list[_Seen] = field(default_factory=list)
    book: dict[str, PendingTx] = field(default_factory=dict)
    _pending_at_finding: dict[tuple[str | None, float | None], bool] = field(default_factory=dict)
    _tasks: list[asyncio.Task[None]] = field(default_factory=list)
    _stopping: asyncio.Event = field(default_factory=asyncio.Event)
    _client: ChainClient | None = None
    _rpc: BatchRpc | None = None
    screener: Screener | None = None

    async def start(self) -> None:
        """Start detection; return once the mempool is watched (nothing sent before is missed)."""
        self._client = ChainClient(self.node.http_url, ws_url=self.node.ws_url)
        self._rpc = BatchRpc(self.node.http_url)
        self.screener = Screener(self._rpc, [self.monitor])
        watcher = RecordingWatcher(self._client, self.book, poll_interval_s=0.05)
        service = DetectionService(self._client, self.screener, mempool=watcher)
        self.spawn("detection", service.run(self._service_sink()))
        self.spawn("state-refresh", self._refresh_loop())
        try:
            await self._until_watching(watcher)
        except BaseException:
            await self._shutdown()
            raise

    async def _until_watching(self, watcher: MempoolWatcher) -> None:
        ready = asyncio.ensure_future(watcher.watching.wait())
        try:
            await asyncio.wait(
                [ready, *self._tasks], timeout=self.ready_timeout_s, return_when=asyncio.FIRST_COMPLETED
            )
        finally:
            ready.cancel()
        if watcher.watching.is_set():
            return
        died = [f for t in self._tasks if t.done() and (f := _failure(t))]
        if died:
            raise ScenarioError(f"detection did not start: {'; '.join(died)}")
        raise ScenarioError(
            f"detection did not start watching the mempool of {self.node.http_url} within "
            f"{self.ready_timeout_s:g} s (neither the WebSocket subscription nor a txpool read "
            "succeeded); check that anvil is running and not overloaded"
        )

    def _service_sink(self) -> Sink:
        return self._sink

    def spawn(self, name: str, coro: Coroutine[Any, Any, None]) -> None:
        """Run ``coro`` as a background task of this detection, stopped (and checked) by stop()."""
        task = asyncio.create_task(coro, name=name)
        task.add_done_callback(self._ended)
        self._tasks.append(task)

    def _ended(self, task: asyncio.Task[None]) -> None:
        # Said when it happens; raised by stop().
        failure = _failure(task)
        if failure is not None:
            log.error("detection background task died", failure=failure)
        elif not task.cancelled() and not self._stopping.is_set():
            log.error("detection background task ended before stop()", task=task.get_name())

    async def _sink(self, item: Output) -> None:
        if not isinstance(item, Raised):
            return
        f = item.finding
        # Findings of one screening are produced together: the first one's inclusion check holds
        # for all of them (checking each in turn would measure the sink, not detection).
        key = (f.tx_hash, item.latency_ms)
        if key not in self._pending_at_finding:
            included = False
            if self._client is not None and f.tx_hash:
                try:
                    included = await self._client.get_receipt(f.tx_hash) is not None
                except ChainError as exc:  # unknown: never claimed as seen before inclusion
                    log.warning("inclusion check failed", tx=f.tx_hash, error=exc.user_message)
                    included = True
            self._pending_at_finding[key] = f.pending and not included
        self.seen.append(_Seen(f, item.latency_ms, self._pending_at_finding[key], time.perf_counter()))

    async def _steady(self, what: str, step: Callable[[], Awaitable[None]], every_s: float) -> None:
        """``step`` every ``every_s`` until stop(). A ChainError (a node slow or busy under load) is
        logged and retried with a short backoff; after ``give_up_s`` of nothing but failures the
        loop gives up with a ScenarioError, which stop() reports."""
        outage = Outage(f"{what} on {self.node.http_url}", min_delay_s=0.05, max_delay_s=1.0)
        while not self._stopping.is_set():
            try:
                await step()
            except ChainError as exc:
                if outage.since is not None and outage.clock() - outage.since >= self.give_up_s:
                    raise ScenarioError(
                        f"{what} gave up after {self.give_up_s:g} s of failures ({exc.user_message}); "
                        "check that anvil is running and not overloaded"
                    ) from exc
                wait = outage.failed(exc.user_message)
            else:
                outage.ok()
                wait = every_s
            await asyncio.sleep(wait)

    async def _refresh_loop(self) -> None:
        client, screener = self._client, self.screener
        assert client is not None and screener is not None
        last = -1

        async def step() -> None:
            nonlocal last
            head = await client.block_number()
            if head != last:
                await screener.refresh(head)
                last = head

        await self._steady("state refresh", step, 0.02)

    async def quiet_mining(self) -> None:
        """Mine once the pool has been still for ``quiet_s`` (runs until stop())."""
        client = self._client
        assert client is not None
        switched = False
        last_count, since = -1, time.perf_counter()

        async def step() -> None:
            nonlocal switched, last_count, since
            if not switched:
                await client.set_automine(False)
                switched = True
            status = await client.request("txpool_status")
            count = int(status.get("pending", "0x0"), 16)
            now = time.perf_counter()
            if count != last_count:
                last_count, since = count, now
            elif count and now - since >= self.quiet_s:
                await client.mine()
                last_count = -1

        try:
            await self._steady("quiet mining", step, 0.03)
        except Exception:
            # Dead, it must not leave the chain without blocks: whatever waits on a receipt would
            # wait for nothing. stop() reports the failure.
            try:
                await client.set_automine(True)
            except ChainError as exc:
                log.error("automine could not be switched back on", error=exc.user_message)
            raise

    def start_mining(self) -> None:
        self.spawn("quiet-mining", self.quiet_mining())

    async def _restore_automine(self) -> str | None:
        """Automine on (and confirmed), retried while the node fails; None, or what went wrong."""
        client = self._client
        assert client is not None
        deadline = time.monotonic() + self.give_up_s
        while True:
            try:
                await client.set_automine(True)
                if await client.request("anvil_getAutomine"):
                    return None
                error = "anvil_getAutomine still says false"
            except ChainError as exc:
                error = exc.user_message
            if time.monotonic() >= deadline:
                return f"automine could not be switched back on within {self.give_up_s:g} s ({error})"
            await asyncio.sleep(0.1)

    async def _shutdown(self) -> list[str]:
        """Stop every task (bounded), switch automine back on, close; what went wrong, one line each."""
        self._stopping.set()
        for task in self._tasks:
            if task.get_name() not in _GRACEFUL:
                task.cancel()
        failures: list[str] = []
        if self._tasks:
            _, late = await asyncio.wait(self._tasks, timeout=self.stop_timeout_s)
            for task in late:
                task.cancel()
                failures.append(f"{task.get_name()}: did not stop within {self.stop_timeout_s:g} s")
        failures += [f for t in self._tasks if t.done() and (f := _failure(t))]
        if self._client is not None:
            if (error := await self._restore_automine()) is not None:
                failures.append(error)
            await self._client.close()
        if self._rpc is not None:
            await self._rpc.close()
        return failures

    async def stop(self) -> None:
        """Stop detection and mining; raise ScenarioError if a background task died on the way."""
        failures = await self._shutdown()
        if failures:
            raise ScenarioError(f"detection failed during the run: {'; '.join(failures)}")


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
