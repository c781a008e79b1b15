"""Deploy the demo protocol (docs/demo-protocol.md) onto a chain (its governance is driven by
:mod:`bulwark.scenarios.governance`).

    protocol = await deploy_protocol(client, compiler, node.accounts)

Ownership is real: a Safe 2-of-3 proposes and executes on a TimelockController, which holds every
admin and upgrader role and owns the guardian; the deployer keeps nothing but the token faucet.
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from bulwark.chain import ChainClient, Signer, TxRequest
from bulwark.chain.abi import decode_result, encode_call
from bulwark.chain.safe import (
    ZERO_ADDRESS,
    checksum,
    safe_artifact,
)
from bulwark.chain.timelock import (
    CANCELLER_ROLE,
    DEFAULT_ADMIN_ROLE,
    EXECUTOR_ROLE,
    PAUSER_ROLE,
    PROPOSER_ROLE,
    UPGRADER_ROLE,
)
from bulwark.domain import Address, Receipt
from bulwark.errors import ScenarioError
from bulwark.logs import get_logger
from bulwark.scenarios.protocol import (
    COMPONENTS,
    Abi,
    Actor,
    Component,
    DemoProtocol,
    Deployed,
    ImplSpec,
)
from bulwark.toolchain.artifacts import CompileResult, ContractArtifact
from bulwark.toolchain.solc import Compiler

log = get_logger(__name__)

E18 = 10**18
PROTOCOL_SOURCES: tuple[Path, ...] = (
    Path("contracts/protocol/DemoToken.sol"),
    Path("contracts/protocol/PriceOracle.sol"),
    Path("contracts/protocol/ConstantProductPool.sol"),
    Path("contracts/protocol/LendingMarket.sol"),
    Path("contracts/protocol/DemoVault.sol"),
    Path("contracts/protocol/FlashLender.sol"),
    Path("contracts/guardian/BulwarkGuardian.sol"),
    Path("contracts/governance/GovernanceImports.sol"),
)
DEFAULT_IMPLEMENTATIONS: Mapping[str, ImplSpec] = {
    "oracle": ImplSpec(Path("contracts/protocol/PriceOracle.sol"), "PriceOracle"),
    "pool": ImplSpec(Path("contracts/protocol/ConstantProductPool.sol"), "ConstantProductPool"),
    "lending": ImplSpec(Path("contracts/protocol/LendingMarket.sol"), "LendingMarket"),
    "vault": ImplSpec(Path("contracts/protocol/DemoVault.sol"), "DemoVault"),
    "flash": ImplSpec(Path("contracts/protocol/FlashLender.sol"), "FlashLender"),
}
ROLE_NAMES = ("DEFAULT_ADMIN_ROLE", "UPGRADER_ROLE", "PAUSER_ROLE")
MIN_ACCOUNTS = 10


@dataclass(frozen=True, slots=True)
class SeedPlan:
    """Initial state: a liquid market at ETH = 2,000 USD, money in every component."""

    eth_price: int = 2_000 * E18
    pool_weth: int = 1_000 * E18
    pool_usd: int = 2_000_000 * E18
    lending_usd: int = 1_000_000 * E18
    flash_usd: int = 500_000 * E18
    flash_weth: int = 500 * E18
    flash_fee_bps: int = 9
    user_usd: int = 100_000 * E18
    user_weth: int = 100 * E18
    vault_deposits: tuple[int, ...] = (10_000 * E18, 25_000 * E18, 40_000 * E18)
    borrower_collateral: int = 20 * E18  # first user: a healthy open position (HF 1.6)
    borrower_debt: int = 20_000 * E18
    guardian_rights_s: int = 30 * 24 * 3600


# ----------------------------------------------------------------------------- chain operations


class ChainOps:
    """ABI-level calls and transactions by demo actors, over a :class:`ChainClient`.

    Reverts surface as ``bulwark.chain.CallReverted`` whose ``reason`` is decoded with the
    target's ABI (e.g. ``NotSentinel(0x...)``).
    """

    def __init__(self, client: ChainClient) -> None:
        self.client = client
        self._signers: dict[str, Signer] = {}
        self._unlocked: frozenset[str] | None = None

    async def sender(self, actor: Actor) -> Signer | Address:
        """The node signs for keys it holds (anvil's dev accounts): pure-Python ECDSA costs
        ~30 ms a transaction here, which would dominate a deployment. Other keys sign locally."""
        if self._unlocked is None:
            accounts = await self.client.request("eth_accounts")
            self._unlocked = frozenset(str(a).lower() for a in accounts or ())
        if actor.address.lower() in self._unlocked:
            return actor.address
        signer = self._signers.get(actor.address)
        if signer is None:
            signer = self._signers[actor.address] = Signer(actor.private_key)
        return signer

    async def call(self, to: str, abi: Abi, fn: str, *args: Any, sender: str | None = None) -> Any:
        data = encode_call(abi, fn, *args)
        out = await self.client.call(
            TxRequest(to=Address(to), data=data), sender=Address(sender) if sender else None, abi=abi
        )
        return decode_result(abi, fn, out, len(args))

    async def transact(self, actor: Actor, to: str, abi: Abi, fn: str, *args: Any, value: int = 0) -> Receipt:
        tx = TxRequest(to=Address(to), data=encode_call(abi, fn, *args), value=value)
        return await self.client.transact(tx, sender=await self.sender(actor), abi=abi)

    async def deploy(self, actor: Actor, artifact: ContractArtifact, *args: Any) -> Address:
        return await self.deploy_code(actor, artifact.abi, artifact.bytecode, *args)

    async def deploy_code(self, actor: Actor, abi: Abi, bytecode: bytes, *args: Any) -> Address:
        return checksum(await self.client.deploy(abi, bytecode, *args, sender=await self.sender(actor)))


# ----------------------------------------------------------------------------- compiling


@dataclass(frozen=True, slots=True)
class ProtocolBuild:
    """Compiled artifacts of the protocol plus any implementation overrides."""

    base: CompileResult
    overrides: Mapping[str, ContractArtifact]

    def artifact(self, name: str) -> ContractArtifact:
        return self.base.contract(name)

    def implementation(self, component: str) -> ContractArtifact:
        if component in self.overrides:
            return self.overrides[component]
        return self.base.contract(DEFAULT_IMPLEMENTATIONS[component].contract_name)


_BUILD_CACHE: dict[str, CompileResult] = {}
_BUILD_LOCK = threading.Lock()


def _cached_compile(compiler: Compiler, paths: Sequence[Path]) -> CompileResult:
    """Compile once per process per source content (solcjs spends seconds on the whole protocol)."""
    digest = hashlib.sha256(str(compiler.root).encode())
    for path in sorted(paths):
        full = path if path.is_absolute() else compiler.root / path
        try:
            digest.update(str(path).encode() + b"\0" + full.read_bytes())
        except OSError as exc:
            raise ScenarioError(f"cannot read Solidity source {path}: {exc.strerror or exc}") from exc
    key = digest.hexdigest()
    with _BUILD_LOCK:
        hit = _BUILD_CACHE.get(key)
        if hit is None:
            hit = compiler.compile_files(list(paths))
            _BUILD_CACHE[key] = hit
    return hit


def build_protocol(
    compiler: Compiler, implementations: Mapping[str, ImplSpec] | None = None
) -> ProtocolBuild:
    """Compile the protocol, the guardian and governance contracts, and the overrides."""
    unknown = sorted(set(implementations or {}) - set(DEFAULT_IMPLEMENTATIONS))
    if unknown:
        raise ScenarioError(
            f"cannot override {unknown[0]!r}: the upgradeable components are {', '.join(COMPONENTS)}"
        )
    base = _cached_compile(compiler, PROTOCOL_SOURCES)
    overrides = {name: compile_impl(compiler, spec) for name, spec in (implementations or {}).items()}
    return ProtocolBuild(base=base, overrides=overrides)


def compile_impl(compiler: Compiler, spec: ImplSpec) -> ContractArtifact:
    """Compile one implementation (a vulnerable variant or a patch) and check it is deployable."""
    result = _cached_compile(compiler, [spec.source_path])
    matches = [c for c in result.contracts if c.name == spec.contract_name]
    in_file = [c for c in matches if Path(c.source_path).name == Path(spec.source_path).name]
    chosen = (in_file or matches)[:1]
    if not chosen:
        raise ScenarioError(f"no contract {spec.contract_name} in {spec.source_path}")
    art = chosen[0]
    if not art.bytecode:
        raise ScenarioError(f"{spec.contract_name} in {spec.source_path} is abstract or an interface")
    return art


# ----------------------------------------------------------------------------- deploying


def _actor(name: str, account: Any) -> Actor:
    return Actor(name=name, address=checksum(account.address), private_key=str(account.private_key))


async def deploy_protocol(
    client: ChainClient,
    compiler: Compiler,
    accounts: Sequence[Any],
    *,
    timelock_delay: int = 0,
    implementations: Mapping[str, ImplSpec] | None = None,
    seed: SeedPlan | None = None,
) -> DemoProtocol:
    """Deploy and seed the whole demo protocol; the deployer ends with no admin power.

    ``accounts`` are funded keys (anvil dev accounts, at least 10): 0 deployer/faucet, 1-3 Safe
    owners, 4 sentinel, 5 oracle feeder, 6-8 benign users, the rest spare (attackers, keepers).
    """
    if len(accounts) < MIN_ACCOUNTS:
        raise ScenarioError(f"the demo protocol needs {MIN_ACCOUNTS} funded accounts, got {len(accounts)}")
    if timelock_delay < 0:
        raise ScenarioError(f"timelock delay must not be negative, got {timelock_delay}")
    started = time.perf_counter()
    plan = seed or SeedPlan()
    build = build_protocol(compiler, implementations)
    compiled = time.perf_counter()
    ops = ChainOps(client)
    deployer = _actor("deployer", accounts[0])
    owners = tuple(_actor(f"safe-owner-{i}", accounts[i]) for i in (1, 2, 3))
    sentinel = _actor("sentinel", accounts[4])
    feeder = _actor("feeder", accounts[5])
    users = tuple(_actor(f"user-{i}", accounts[6 + i]) for i in range(3))
    spare = tuple(_actor(f"spare-{i}", acc) for i, acc in enumerate(accounts[9:]))
    chain_id = await client.chain_id()

    # Tokens: the deployer owns the faucet.
    token_art = build.artifact("DemoToken")
    tokens = {
        "usd": Deployed(
            "usd", "DemoToken", await ops.deploy(deployer, token_art, "Demo USD", "USD"), _abi(token_art)
        ),
        "weth": Deployed(
            "weth",
            "DemoToken",
            await ops.deploy(deployer, token_art, "Demo Wrapped Ether", "WETH"),
            _abi(token_art),
        ),
    }

    # Governance: Safe 2-of-3 -> TimelockController (self-administered, no deployer admin).
    safe_address = await deploy_safe(ops, deployer, [o.address for o in owners], threshold=2)
    safe = Deployed("safe", "Safe", safe_address, safe_artifact("Safe").abi)
    tl_art = build.artifact("TimelockController")
    timelock_address = await ops.deploy(
        deployer, tl_art, timelock_delay, [safe_address], [safe_address], ZERO_ADDRESS
    )
    timelock = Deployed("timelock", "TimelockController", timelock_address, _abi(tl_art))

    # Guardian: the deployer configures it, then hands it to the timelock.
    g_art = build.artifact("BulwarkGuardian")
    guardian_address = await ops.deploy(deployer, g_art, deployer.address, plan.guardian_rights_s)
    guardian = Deployed("guardian", "BulwarkGuardian", guardian_address, _abi(g_art))

    # Components: implementation + ERC1967Proxy initialised atomically (no front-runnable init),
    # with the timelock as admin from the first block.
    proxy_art = build.artifact("ERC1967Proxy")
    usd, weth = tokens["usd"].address, tokens["weth"].address
    components: dict[str, Component] = {}

    async def _component(name: str, init_args: tuple[Any, ...]) -> Component:
        impl_art = build.implementation(name)
        impl = await ops.deploy(deployer, impl_art, *())
        init = encode_call(impl_art.abi, "initialize", *init_args)
        proxy = await ops.deploy(deployer, proxy_art, impl, init)
        return Component(name, impl_art.name, proxy, impl, _abi(impl_art))

    components["oracle"] = await _component("oracle", (timelock_address, guardian_address, feeder.address))
    oracle = components["oracle"].proxy
    components["pool"] = await _component("pool", (weth, usd, timelock_address, guardian_address))
    components["lending"] = await _component(
        "lending", (weth, usd, oracle, timelock_address, guardian_address)
    )
    components["vault"] = await _component(
        "vault", (usd, "Bulwark Demo Vault USD", "bvUSD", timelock_address, guardian_address)
    )
    components["flash"] = await _component("flash", (timelock_address, guardian_address, plan.flash_fee_bps))

    g_abi = guardian.abi
    for comp in components.values():
        await ops.transact(deployer, guardian_address, g_abi, "setProtected", comp.proxy, True)
    await ops.transact(deployer, guardian_address, g_abi, "setSentinel", sentinel.address, True)
    await ops.transact(deployer, guardian_address, g_abi, "transferOwnership", timelock_address)

    protocol = DemoProtocol(
        chain_id=chain_id,
        components=components,
        tokens=tokens,
        safe=safe,
        timelock=timelock,
        guardian=guardian,
        timelock_delay=timelock_delay,
        deployer=deployer,
        safe_owners=owners,
        safe_threshold=2,
        sentinel=sentinel,
        feeder=feeder,
        users=users,
        spare=spare,
    )
    await _check_ownership(ops, protocol)
    deployed = time.perf_counter()
    await seed_protocol(client, protocol, plan)
    finished = time.perf_counter()
    log.info(
        "demo protocol deployed",
        compile_s=round(compiled - started, 3),
        deploy_s=round(deployed - compiled, 3),
        seed_s=round(finished - deployed, 3),
        overrides=sorted(build.overrides),
    )
    return replace(protocol, deploy_seconds=finished - started)


def _abi(art: ContractArtifact) -> Abi:
    return tuple(art.abi)


async def _check_ownership(ops: ChainOps, p: DemoProtocol) -> None:
    """Fail the deployment rather than hand over a protocol whose power is not where we claim."""
    tl = p.timelock.address
    for comp in p.components.values():
        for role, holder, expected in (
            (DEFAULT_ADMIN_ROLE, tl, True),
            (UPGRADER_ROLE, tl, True),
            (PAUSER_ROLE, p.guardian.address, True),
            (DEFAULT_ADMIN_ROLE, p.deployer.address, False),
            (UPGRADER_ROLE, p.deployer.address, False),
            (PAUSER_ROLE, p.deployer.address, False),
        ):
            if bool(await ops.call(comp.proxy, comp.abi, "hasRole", role, holder)) is not expected:
                raise ScenarioError(f"{comp.name}: role {role.hex()[:8]} of {holder} is not {expected}")
    owner = await ops.call(p.guardian.address, p.guardian.abi, "owner")
    if checksum(owner) != tl:
        raise ScenarioError(f"guardian owner is {owner}, expected the timelock {tl}")
    for role in (PROPOSER_ROLE, EXECUTOR_ROLE, CANCELLER_ROLE):
        if not await ops.call(tl, p.timelock.abi, "hasRole", role, p.safe.address):
            raise ScenarioError(f"the Safe lacks timelock role {role.hex()[:8]}")
    if await ops.call(tl, p.timelock.abi, "hasRole", DEFAULT_ADMIN_ROLE, p.deployer.address):
        raise ScenarioError("the deployer still administers the timelock")


async def deploy_safe(ops: ChainOps, deployer: Actor, owners: Sequence[str], threshold: int) -> Address:
    """Singleton, proxy factory and fallback handler from the npm artifacts, then a set-up proxy."""
    if not 0 < threshold <= len(owners):
        raise ScenarioError(f"Safe threshold {threshold} is impossible with {len(owners)} owners")
    addresses: dict[str, Address] = {}
    for name in ("Safe", "SafeProxyFactory", "CompatibilityFallbackHandler", "MultiSendCallOnly"):
        art = safe_artifact(name)
        addresses[name] = await ops.deploy_code(deployer, art.abi, art.bytecode)
    safe_abi = safe_artifact("Safe").abi
    setup = encode_call(
        safe_abi,
        "setup",
        list(owners),
        threshold,
        ZERO_ADDRESS,
        b"",
        addresses["CompatibilityFallbackHandler"],
        ZERO_ADDRESS,
        0,
        ZERO_ADDRESS,
    )
    factory_abi = safe_artifact("SafeProxyFactory").abi
    args = (addresses["Safe"], setup, 0)
    proxy = await ops.call(addresses["SafeProxyFactory"], factory_abi, "createProxyWithNonce", *args)
    await ops.transact(deployer, addresses["SafeProxyFactory"], factory_abi, "createProxyWithNonce", *args)
    return checksum(proxy)


# ----------------------------------------------------------------------------- seeding


async def mint(client: ChainClient, protocol: DemoProtocol, token: str, to: str, amount: int) -> None:
    """Faucet: mint demo tokens to anyone (the deployer owns the DemoTokens)."""
    t = protocol.token(token)
    await ChainOps(client).transact(protocol.deployer, t.address, t.abi, "mint", to, amount)


async def fund(client: ChainClient, protocol: DemoProtocol, to: str, *, usd: int = 0, weth: int = 0) -> None:
    """Mint ``usd`` and ``weth`` (in wei units) to ``to``."""
    if usd:
        await mint(client, protocol, "usd", to, usd)
    if weth:
        await mint(client, protocol, "weth", to, weth)


async def approve(
    client: ChainClient, protocol: DemoProtocol, actor: Actor, token: str, spender: str, amount: int
) -> None:
    t = protocol.token(token)
    await ChainOps(client).transact(actor, t.address, t.abi, "approve", spender, amount)


async def seed_protocol(client: ChainClient, p: DemoProtocol, plan: SeedPlan) -> None:
    """Prices, pool liquidity, lending supply, flash liquidity, user balances and positions."""
    ops = ChainOps(client)
    usd, weth = p.address("usd"), p.address("weth")
    oracle, pool, lending = p.component("oracle"), p.component("pool"), p.component("lending")
    vault, flash = p.component("vault"), p.component("flash")

    await ops.transact(p.feeder, oracle.proxy, oracle.abi, "setPrice", weth, plan.eth_price)
    await ops.transact(p.feeder, oracle.proxy, oracle.abi, "setPrice", usd, E18)

    d = p.deployer
    await fund(
        client,
        p,
        d.address,
        usd=plan.pool_usd + plan.lending_usd + plan.flash_usd,
        weth=plan.pool_weth + plan.flash_weth,
    )
    await approve(client, p, d, "weth", pool.proxy, plan.pool_weth)
    await approve(client, p, d, "usd", pool.proxy, plan.pool_usd)
    await ops.transact(d, pool.proxy, pool.abi, "addLiquidity", plan.pool_weth, plan.pool_usd, d.address)
    await approve(client, p, d, "usd", lending.proxy, plan.lending_usd)
    await ops.transact(d, lending.proxy, lending.abi, "supply", plan.lending_usd)
    await approve(client, p, d, "usd", flash.proxy, plan.flash_usd)
    await ops.transact(d, flash.proxy, flash.abi, "deposit", usd, plan.flash_usd)
    await approve(client, p, d, "weth", flash.proxy, plan.flash_weth)
    await ops.transact(d, flash.proxy, flash.abi, "deposit", weth, plan.flash_weth)

    for user, deposit in zip(p.users, plan.vault_deposits, strict=False):
        await fund(client, p, user.address, usd=plan.user_usd, weth=plan.user_weth)
        await approve(client, p, user, "usd", vault.proxy, deposit)
        await ops.transact(user, vault.proxy, vault.abi, "deposit", deposit, user.address)
    if p.users and plan.borrower_collateral:
        b = p.users[0]
        await approve(client, p, b, "weth", lending.proxy, plan.borrower_collateral)
        await ops.transact(b, lending.proxy, lending.abi, "depositCollateral", plan.borrower_collateral)
        await ops.transact(b, lending.proxy, lending.abi, "borrow", plan.borrower_debt)


async def deploy_implementation(
    client: ChainClient, compiler: Compiler, protocol: DemoProtocol, spec: ImplSpec
) -> Address:
    """Deploy a new implementation (e.g. a patched component) from its source, for an upgrade."""
    art = compile_impl(compiler, spec)
    return await ChainOps(client).deploy(protocol.deployer, art)
