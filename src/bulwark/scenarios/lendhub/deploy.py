"""Deploy LendHub (scenarios/protocols/lendhub) onto a running chain, the way its team would.

    lendhub = await deploy_lendhub(client, compiler, node.accounts, guardian=guardian_address)

Each component is an implementation behind an OpenZeppelin TransparentUpgradeableProxy, initialised
atomically; the proxy's own ProxyAdmin is owned by a TimelockController whose proposer, canceller
and executor is a Safe v1.4.1 2-of-3. The timelock holds DEFAULT_ADMIN_ROLE (parameters, unpause)
and, through the ProxyAdmins, upgrades; ``guardian`` holds PAUSER_ROLE. The deployer keeps only
the token faucet and the price feed.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from bulwark.chain import ChainClient, TxRequest
from bulwark.chain.abi import encode_call
from bulwark.chain.eip1967 import ADMIN_SLOT, implementation_of
from bulwark.chain.safe import ZERO_ADDRESS, checksum, safe_artifact
from bulwark.chain.timelock import (
    CANCELLER_ROLE,
    DEFAULT_ADMIN_ROLE,
    EXECUTOR_ROLE,
    PAUSER_ROLE,
    PROPOSER_ROLE,
)
from bulwark.domain import Address, Receipt
from bulwark.errors import ScenarioError
from bulwark.logs import get_logger
from bulwark.scenarios.deploy import ChainOps, deploy_safe
from bulwark.scenarios.lendhub.model import E18, LendHub, LendHubComponent, LendHubSeed
from bulwark.scenarios.lendhub.project import LENDHUB_ROOT, FoundryProject, load_foundry_project
from bulwark.scenarios.protocol import Abi, Actor, Deployed
from bulwark.toolchain.artifacts import CompileResult, ContractArtifact
from bulwark.toolchain.solc import Compiler

log = get_logger(__name__)

SOURCES: dict[str, tuple[Path, str]] = {
    "pool": (Path("src/LendingPool.sol"), "LendingPool"),
    "vault": (Path("src/SavingsVault.sol"), "SavingsVault"),
}
_MOCKS = (Path("src/mocks/MockERC20.sol"), Path("src/mocks/MockPriceFeed.sol"))
# What a deploy script imports from OpenZeppelin, compiled with the project's settings.
_DEPLOY_UNIT = "script/DeployImports.sol"
_DEPLOY_IMPORTS = (
    "// SPDX-License-Identifier: MIT\npragma solidity ^0.8.20;\n"
    'import "@openzeppelin/contracts/proxy/transparent/TransparentUpgradeableProxy.sol";\n'
    'import "@openzeppelin/contracts/governance/TimelockController.sol";\n'
)
MIN_ACCOUNTS = 10


def lendhub_project() -> FoundryProject:
    return load_foundry_project(LENDHUB_ROOT)


def compile_lendhub(project: FoundryProject, compiler: Compiler) -> tuple[CompileResult, CompileResult]:
    """The protocol (components and mocks) and the OpenZeppelin proxy/governance contracts."""
    protocol = project.compile(compiler, [src for src, _ in SOURCES.values()] + list(_MOCKS))
    deploy = compiler.compile_sources(
        {_DEPLOY_UNIT: _DEPLOY_IMPORTS},
        version=project.solc_version,
        optimize=project.optimizer,
        runs=project.optimizer_runs,
        evm_version=project.evm_version,
        via_ir=project.via_ir,
    )
    return protocol, deploy


def _actor(name: str, account: Any) -> Actor:
    return Actor(name=name, address=checksum(account.address), private_key=str(account.private_key))


async def proxy_admin_of(client: ChainClient, proxy: str) -> Address:
    """The ProxyAdmin of a transparent proxy (its ERC-1967 admin slot)."""
    word = await client.get_storage_at(checksum(proxy), ADMIN_SLOT)
    return checksum("0x" + str(word)[-40:])


async def deploy_lendhub(
    client: ChainClient,
    compiler: Compiler,
    accounts: Sequence[Any],
    *,
    guardian: str,
    timelock_delay: int = 60,
    seed: LendHubSeed | None = None,
    project: FoundryProject | None = None,
) -> LendHub:
    """Deploy and seed LendHub. ``compiler`` must be the project's (``project.compiler()``).

    ``accounts`` are funded keys (anvil dev accounts, at least 10): 0 deployer/faucet, 1-3 Safe
    owners, 4 lender, 5-7 users, the rest spare (attackers, keepers).
    """
    if len(accounts) < MIN_ACCOUNTS:
        raise ScenarioError(f"LendHub needs {MIN_ACCOUNTS} funded accounts, got {len(accounts)}")
    if timelock_delay < 0:
        raise ScenarioError(f"timelock delay must not be negative, got {timelock_delay}")
    started = time.perf_counter()
    project = project or lendhub_project()
    plan = seed or LendHubSeed()
    built, gov = compile_lendhub(project, compiler)
    ops = ChainOps(client)
    deployer = _actor("deployer", accounts[0])
    owners = tuple(_actor(f"safe-owner-{i}", accounts[i]) for i in (1, 2, 3))
    guardian_address = checksum(guardian)

    usd_art, feed_art = built.contract("MockERC20"), built.contract("MockPriceFeed")
    usd = await ops.deploy(deployer, usd_art, "LendHub Test USD", "USDX", deployer.address)
    feed = await ops.deploy(deployer, feed_art, 8, plan.eth_price_8, deployer.address)

    safe_address = await deploy_safe(ops, deployer, [o.address for o in owners], threshold=2)
    tl_art = gov.contract("TimelockController")
    timelock = await ops.deploy(
        deployer, tl_art, timelock_delay, [safe_address], [safe_address], ZERO_ADDRESS
    )

    proxy_art = gov.contract("TransparentUpgradeableProxy")

    async def _component(name: str, *init_args: Any) -> LendHubComponent:
        source, contract = SOURCES[name]
        impl_art = _impl(built, source, contract)
        impl = await ops.deploy(deployer, impl_art)
        init = encode_call(impl_art.abi, "initialize", *init_args)
        proxy = await ops.deploy(deployer, proxy_art, impl, timelock, init)
        admin = await proxy_admin_of(client, proxy)
        return LendHubComponent(name, contract, source, proxy, impl, admin, tuple(impl_art.abi))

    pool = await _component(
        "pool",
        usd,
        feed,
        timelock,
        guardian_address,
        plan.collateral_factor_bps,
        plan.liquidation_bonus_bps,
        plan.borrow_rate_per_second,
    )
    vault = await _component(
        "vault",
        usd,
        pool.proxy,
        timelock,
        guardian_address,
        "LendHub Savings USD",
        "svUSD",
        plan.vault_buffer_bps,
        plan.vault_cap,
    )
    lendhub = LendHub(
        project=project,
        chain_id=await client.chain_id(),
        components={"pool": pool, "vault": vault},
        tokens={"usd": Deployed("usd", "MockERC20", usd, tuple(usd_art.abi))},
        price_feed=Deployed("feed", "MockPriceFeed", feed, tuple(feed_art.abi)),
        safe=Deployed("safe", "Safe", safe_address, safe_artifact("Safe").abi),
        timelock=Deployed("timelock", "TimelockController", timelock, tuple(tl_art.abi)),
        timelock_delay=timelock_delay,
        safe_owners=owners,
        safe_threshold=2,
        guardian=guardian_address,
        deployer=deployer,
        lender=_actor("lender", accounts[4]),
        users=tuple(_actor(f"user-{i}", accounts[5 + i]) for i in range(3)),
        spare=tuple(_actor(f"spare-{i}", acc) for i, acc in enumerate(accounts[8:])),
        proxy_admin_abi=tuple(gov.contract("ProxyAdmin").abi),
    )
    await check_ownership(client, lendhub)
    await seed_lendhub(client, lendhub, plan)
    seconds = time.perf_counter() - started
    log.info("lendhub deployed", seconds=round(seconds, 3), timelock_delay=timelock_delay)
    return replace(lendhub, deploy_seconds=seconds)


def _impl(result: CompileResult, source: Path, contract: str) -> ContractArtifact:
    for art in result.contracts:
        if art.name == contract and Path(art.source_path).name == source.name and art.bytecode:
            return art
    raise ScenarioError(f"no deployable contract {contract} in {source}")


async def check_ownership(client: ChainClient, p: LendHub) -> None:
    """Fail the deployment rather than hand over a protocol whose power is not where we claim."""
    ops = ChainOps(client)
    tl, deployer = p.timelock.address, p.deployer.address
    for comp in p.components.values():
        for role, holder, expected in (
            (DEFAULT_ADMIN_ROLE, tl, True),
            (PAUSER_ROLE, p.guardian, True),
            (DEFAULT_ADMIN_ROLE, deployer, False),
            (PAUSER_ROLE, deployer, False),
        ):
            if bool(await ops.call(comp.proxy, comp.abi, "hasRole", role, holder)) is not expected:
                raise ScenarioError(f"{comp.name}: role 0x{role.hex()[:8]} of {holder} is not {expected}")
        owner = checksum(await ops.call(comp.proxy_admin, p.proxy_admin_abi, "owner"))
        if owner != tl:
            raise ScenarioError(f"{comp.name}: ProxyAdmin owner is {owner}, expected the timelock {tl}")
        if await implementation_of(client, comp.proxy) != comp.implementation:
            raise ScenarioError(f"{comp.name}: the proxy does not point at {comp.implementation}")
    for role in (PROPOSER_ROLE, EXECUTOR_ROLE, CANCELLER_ROLE):
        if not await ops.call(tl, p.timelock.abi, "hasRole", role, p.safe.address):
            raise ScenarioError(f"the Safe lacks timelock role 0x{role.hex()[:8]}")
    if await ops.call(tl, p.timelock.abi, "hasRole", DEFAULT_ADMIN_ROLE, deployer):
        raise ScenarioError("the deployer still administers the timelock")


# Fixed, not estimated: the pool accrues interest when a block's timestamp moves, so the gas of
# a call can grow between estimation and inclusion (the estimate has no margin).
TX_GAS = 1_500_000


async def transact(
    client: ChainClient, actor: Actor, to: str, abi: Abi, fn: str, *args: Any, value: int = 0
) -> Receipt:
    """A protocol call by ``actor`` that must succeed (raises CallReverted with the reason)."""
    tx = TxRequest(to=checksum(to), data=encode_call(abi, fn, *args), value=value, gas=TX_GAS)
    return await client.transact(tx, sender=await ChainOps(client).sender(actor), abi=abi)


async def mint_usd(client: ChainClient, p: LendHub, to: str, amount: int) -> None:
    """Faucet: the deployer owns the test stablecoin."""
    usd = p.tokens["usd"]
    await ChainOps(client).transact(p.deployer, usd.address, usd.abi, "mint", checksum(to), amount)


async def seed_lendhub(client: ChainClient, p: LendHub, plan: LendHubSeed) -> None:
    """A lender's supply, three users with USD, two borrowing against ETH, three vault deposits."""
    usd = p.tokens["usd"]
    pool, vault = p.component("pool"), p.component("vault")
    await mint_usd(client, p, p.lender.address, plan.lender_supply)
    await transact(client, p.lender, usd.address, usd.abi, "approve", pool.proxy, 2**256 - 1)
    await transact(client, p.lender, pool.proxy, pool.abi, "supply", plan.lender_supply)
    for i, user in enumerate(p.users):
        await mint_usd(client, p, user.address, plan.user_usd)
        for spender in (pool.proxy, vault.proxy):
            await transact(client, user, usd.address, usd.abi, "approve", spender, 2**256 - 1)
        if i < len(plan.vault_deposits):
            await transact(
                client, user, vault.proxy, vault.abi, "deposit", plan.vault_deposits[i], user.address
            )
    # Borrows last: interest accrues per second from the first borrow, so deposits made after it
    # would mint shares that depend on the wall clock, and the seeded state would not be exact.
    for user in p.users[:2]:
        await transact(
            client, user, pool.proxy, pool.abi, "depositCollateral", value=plan.user_eth_collateral
        )
        await transact(client, user, pool.proxy, pool.abi, "borrow", plan.user_borrow)


__all__ = [
    "E18",
    "SOURCES",
    "check_ownership",
    "compile_lendhub",
    "deploy_lendhub",
    "lendhub_project",
    "mint_usd",
    "proxy_admin_of",
    "seed_lendhub",
    "transact",
]
