"""Run one scenario end to end: fresh anvil -> deploy -> scenario setup -> benign traffic -> attack -> loss.

    result = run_scenario(load_corpus().get("oracle-open-setprice"), RunOptions(benign_txs=30))
    result.loss_wei, result.attack_succeeded, result.attack_txs

How the loss is measured (``loss_wei``)
---------------------------------------
*Holders* are every protected contract (each component proxy of the protocol, including extra
components a scenario deploys) plus the scenario's declared *victims* (e.g. a depositor who gets
front-run). *Assets* are the ERC-20 tokens of the protocol (``usd``, ``weth``) plus any extra token
a scenario lists; native ETH is not counted (no component holds any, and victims spend it on gas).

Each asset's balance at every holder is read right before the first attack transaction and right
after the last one. Each asset ``a`` is priced once, before the attack, by the protocol's oracle
(``oracle.price(a)``: USD with 18 decimals per 1e18 units; USD itself is 1e18 when no quote is
posted), so an attack that moves the oracle cannot move its own damage figure. Then::

    loss_wei = max(0, sum over a of  (sum over holders h of  before[h][a] - after[h][a]) * price[a] // 1e18)

i.e. the net value, in wei of the USD token, that left the protocol and its victims during the
attack window. Transfers between holders cancel out (a swap between the pool and the lending market
is no loss); value that entered (fees, donations by the attacker) offsets what left. An attack
*succeeded* when ``loss_wei > 0``.
"""

from __future__ import annotations

import enum
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, TypeVar

from bulwark.chain import CallReverted, ChainClient, TxRequest, run
from bulwark.chain.abi import decode_result, encode_call
from bulwark.domain import Address, TxHash
from bulwark.errors import ScenarioError, UsageError
from bulwark.logs import get_logger
from bulwark.scenarios.attack import (
    ScenarioContext,
    World,
    receipts,
    script_attack,
    script_setup,
)
from bulwark.scenarios.benign import BenignReport, BenignTraffic
from bulwark.scenarios.corpus import Scenario, load_script
from bulwark.scenarios.deploy import SeedPlan, deploy_protocol, fund
from bulwark.scenarios.protocol import Abi, DemoProtocol, ImplSpec
from bulwark.toolchain.anvil import Anvil, AnvilOptions
from bulwark.toolchain.solc import Compiler

__all__ = [
    "ATTACKER_CAPITAL_USD",
    "ATTACKER_CAPITAL_WETH",
    "Holdings",
    "ProtectLevel",
    "RunOptions",
    "RunResult",
    "measure_holdings",
    "on_fresh_chain",
    "parse_protect",
    "prepare_scenario",
    "run_benign_on_fresh_chain",
    "run_scenario",
    "run_scenario_async",
]

log = get_logger(__name__)

T = TypeVar("T")

E18 = 10**18
ATTACKER_CAPITAL_USD = 250_000 * E18
"""What the attacker brings (bought on the market before the attack); never counted as loss."""
ATTACKER_CAPITAL_WETH = 150 * E18


class ProtectLevel(enum.StrEnum):
    """How much of Bulwark guards the run. Only ``none`` exists at this stage."""

    NONE = "none"
    DETECT = "detect"
    CONTAIN = "contain"
    FULL = "full"


AVAILABLE_PROTECT: frozenset[ProtectLevel] = frozenset({ProtectLevel.NONE})


def parse_protect(text: str) -> ProtectLevel:
    """``none`` -> ProtectLevel.NONE; an unknown or not-yet-available level is a UsageError."""
    try:
        level = ProtectLevel(text.strip().lower())
    except ValueError:
        choices = ", ".join(p.value for p in ProtectLevel)
        raise UsageError(f"unknown protect level {text!r}; use one of: {choices}") from None
    if level not in AVAILABLE_PROTECT:
        available = ", ".join(sorted(p.value for p in AVAILABLE_PROTECT))
        raise UsageError(f"protect level {level.value!r} is not available yet; available: {available}")
    return level


@dataclass(frozen=True, slots=True)
class RunOptions:
    """``implementation`` overrides what the scenario's component runs (default: the vulnerable
    source; ``use_fix`` takes the reference fix)."""

    protect: ProtectLevel = ProtectLevel.NONE
    benign_txs: int = 30
    seed: int = 0
    use_fix: bool = False
    implementation: ImplSpec | None = None
    benign_after_attack: int = 0


@dataclass(frozen=True, slots=True)
class Holdings:
    """Token balances of every holder, and the oracle price of every asset, at one moment."""

    block: int
    balances: Mapping[str, Mapping[Address, int]]  # asset -> holder -> balance
    prices: Mapping[str, int]  # asset -> USD wei per 1e18 units


@dataclass(frozen=True, slots=True)
class RunResult:
    scenario: str
    vuln_class: str
    protect: str
    implementation: str
    attack_succeeded: bool
    loss_wei: int
    drained: Mapping[str, int]  # asset -> net units that left holders (negative: came in)
    attack_txs: tuple[TxHash, ...]
    reverted_attack_txs: tuple[TxHash, ...]
    benign: BenignReport
    benign_after: BenignReport | None
    deploy_seconds: float
    benign_seconds: float
    attack_seconds: float
    total_seconds: float
    prices: Mapping[str, int] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {
            "scenario": self.scenario,
            "class": self.vuln_class,
            "protect": self.protect,
            "implementation": self.implementation,
            "attack_succeeded": self.attack_succeeded,
            "loss_wei": self.loss_wei,
            "loss_usd": self.loss_wei / E18,
            "drained": dict(self.drained),
            "attack_txs": list(self.attack_txs),
            "reverted_attack_txs": list(self.reverted_attack_txs),
            "benign": self.benign.to_json(),
            "benign_after": self.benign_after.to_json() if self.benign_after else None,
            "seconds": {
                "deploy": round(self.deploy_seconds, 3),
                "benign": round(self.benign_seconds, 3),
                "attack": round(self.attack_seconds, 3),
                "total": round(self.total_seconds, 3),
            },
        }


async def _call(
    client: ChainClient, to: Address, abi: Abi, fn: str, *args: Any, block: int | str = "latest"
) -> Any:
    out = await client.call(TxRequest(to=to, data=encode_call(abi, fn, *args)), block=block, abi=abi)
    return decode_result(abi, fn, out, len(args))


def _holders(world: World) -> tuple[Address, ...]:
    seen: dict[str, Address] = {}
    for comp in world.protocol.components.values():
        seen.setdefault(comp.proxy.lower(), comp.proxy)
    for victim in world.victims:
        seen.setdefault(victim.lower(), victim)
    return tuple(seen.values())


def _assets(world: World) -> dict[str, tuple[Address, Abi]]:
    out = {name: (t.address, t.abi) for name, t in world.protocol.tokens.items()}
    out.update({name: (t.address, t.abi) for name, t in world.tokens.items()})
    return out


async def measure_holdings(client: ChainClient, world: World, *, with_prices: bool = True) -> Holdings:
    """Balances of every asset at every holder (and oracle prices) at the latest block."""
    block = await client.block_number()
    balances: dict[str, dict[Address, int]] = {}
    prices: dict[str, int] = {}
    oracle = world.protocol.component("oracle")
    for name, (address, abi) in _assets(world).items():
        balances[name] = {
            h: int(await _call(client, address, abi, "balanceOf", h, block=block)) for h in _holders(world)
        }
        if with_prices:
            try:
                prices[name] = int(
                    await _call(client, oracle.proxy, oracle.abi, "price", address, block=block)
                )
            except CallReverted:
                if name != "usd":
                    raise ScenarioError(f"the oracle has no price for {name}; cannot value losses") from None
                prices[name] = E18
    return Holdings(block=block, balances=balances, prices=prices)


def loss_between(before: Holdings, after: Holdings) -> tuple[int, dict[str, int]]:
    """(loss_wei, net units drained per asset), priced at ``before``'s prices (module docstring)."""
    drained: dict[str, int] = {}
    value = 0
    for asset, by_holder in before.balances.items():
        delta = sum(by_holder.values()) - sum(after.balances.get(asset, {}).values())
        drained[asset] = delta
        value += delta * before.prices[asset] // E18
    return max(0, value), drained


def _implementation_for(scenario: Scenario, options: RunOptions) -> tuple[ImplSpec, str]:
    if options.implementation is not None:
        return options.implementation, str(options.implementation.source_path)
    if options.use_fix:
        return ImplSpec(scenario.fix.source, scenario.fix.contract), "fix"
    return ImplSpec(scenario.vulnerable.source, scenario.vulnerable.contract), "vulnerable"


async def prepare_scenario(
    scenario: Scenario, options: RunOptions, client: ChainClient, accounts: Sequence[Any], compiler: Compiler
) -> tuple[ScenarioContext, Callable[[ScenarioContext], Awaitable[list[TxHash]]], str]:
    """Deploy the protocol with the scenario's implementation, fund the attacker, run the
    scenario's setup: the context, the attack to send and which implementation runs."""
    module = load_script(scenario)
    setup, attack = script_setup(module), script_attack(module)
    impl, impl_label = _implementation_for(scenario, options)
    implementations = {} if scenario.extra_component else {scenario.component: impl}
    seed_plan = replace(SeedPlan(), **dict(scenario.seed))  # type: ignore[arg-type]  # validated in corpus
    protocol: DemoProtocol = await deploy_protocol(
        client, compiler, accounts, implementations=implementations, seed=seed_plan
    )
    if not protocol.spare:
        raise ScenarioError("no spare funded account left for the attacker; start anvil with more accounts")
    attacker = protocol.spare[0]
    await fund(client, protocol, attacker.address, usd=ATTACKER_CAPITAL_USD, weth=ATTACKER_CAPITAL_WETH)
    ctx = ScenarioContext(
        scenario=scenario,
        client=client,
        compiler=compiler,
        world=World(protocol=protocol),
        attacker=attacker,
        implementation=impl,
    )
    if setup is not None:
        world = await setup(ctx)
        if not isinstance(world, World):
            raise ScenarioError(f"{scenario.name}: setup() must return a World")
        ctx = ctx.with_world(world)
    return ctx, attack, impl_label


async def run_scenario_async(
    scenario: Scenario, options: RunOptions, client: ChainClient, accounts: Sequence[Any], compiler: Compiler
) -> RunResult:
    """Run ``scenario`` on the (fresh) chain behind ``client``; ``accounts`` are its funded dev keys."""
    if options.protect not in AVAILABLE_PROTECT:
        raise UsageError(f"protect level {options.protect.value!r} is not available yet")
    started = time.perf_counter()
    ctx, attack, impl_label = await prepare_scenario(scenario, options, client, accounts, compiler)
    deployed = time.perf_counter()

    traffic = BenignTraffic(
        client, ctx.protocol, compiler, seed=options.seed, exclude=scenario.benign_exclude
    )
    benign = await traffic.run(options.benign_txs)
    benign_done = time.perf_counter()

    before = await measure_holdings(client, ctx.world)
    hashes = [TxHash(h) for h in await attack(ctx)]
    attack_done = time.perf_counter()
    after = await measure_holdings(client, ctx.world, with_prices=False)
    sent = await receipts(client, hashes)
    loss, drained = loss_between(before, after)

    benign_after = await traffic.run(options.benign_after_attack) if options.benign_after_attack else None
    finished = time.perf_counter()
    result = RunResult(
        scenario=scenario.name,
        vuln_class=scenario.vuln_class.value,
        protect=options.protect.value,
        implementation=impl_label,
        attack_succeeded=loss > 0,
        loss_wei=loss,
        drained=drained,
        attack_txs=tuple(hashes),
        reverted_attack_txs=tuple(s.tx_hash for s in sent if not s.ok),
        benign=benign,
        benign_after=benign_after,
        deploy_seconds=deployed - started,
        benign_seconds=benign_done - deployed,
        attack_seconds=attack_done - benign_done,
        total_seconds=finished - started,
        prices=before.prices,
    )
    log.info("scenario run", scenario=scenario.name, loss_wei=loss, reverted=len(result.reverted_attack_txs))
    return result


def run_scenario(
    scenario: Scenario, options: RunOptions | None = None, *, compiler: Compiler | None = None
) -> RunResult:
    """Start a fresh anvil, run the scenario on it, stop the node. Sync face for the CLI and bench."""
    options = options or RunOptions()
    parse_protect(options.protect.value)  # refuse unavailable levels before starting anything
    return on_fresh_chain(
        lambda node, client, comp: run_scenario_async(scenario, options, client, node.accounts, comp),
        compiler,
    )


def on_fresh_chain(
    body: Callable[[Anvil, ChainClient, Compiler], Awaitable[T]], compiler: Compiler | None = None
) -> T:
    """``body`` on a fresh anvil with a client to it; the compiler is ``compiler`` or one made (and
    closed) for the run. The one place a run's throw-away chain is started and stopped."""
    own = compiler is None
    comp = compiler or Compiler()
    try:
        with Anvil(AnvilOptions()) as node:

            async def _go() -> T:
                async with ChainClient(node.http_url) as client:
                    return await body(node, client, comp)

            return run(_go())
    finally:
        if own:
            comp.close()


def run_benign_on_fresh_chain(txs: int, *, seed: int = 0, compiler: Compiler | None = None) -> BenignReport:
    """Fresh anvil, the safe protocol deployed, then ``txs`` benign transactions."""

    async def body(node: Anvil, client: ChainClient, comp: Compiler) -> BenignReport:
        protocol = await deploy_protocol(client, comp, node.accounts)
        return await BenignTraffic(client, protocol, comp, seed=seed).run(txs)

    return on_fresh_chain(body, compiler)
