"""Deposit a false-returning legacy token one does not own, withdraw the honest lenders' tokens."""

from __future__ import annotations

from bulwark.domain import TxHash
from bulwark.scenarios.attack import ScenarioContext, World
from bulwark.scenarios.corpus import ContractRef

LENDER_DEPOSITS = (40_000 * 10**18, 65_000 * 10**18, 90_000 * 10**18)


async def setup(ctx: ScenarioContext) -> World:
    """A bridged legacy stablecoin is listed on the flash lender by three honest lenders."""
    p = ctx.protocol
    token = await ctx.deploy_token(
        "lusd", ContractRef(ctx.scenario.folder / "LegacyToken.sol", "LegacyToken"), "Legacy USD", "LUSD"
    )
    flash = ctx.address("flash")
    for user, amount in zip(p.users, LENDER_DEPOSITS, strict=False):
        await ctx.transact(p.deployer, token.address, token.abi, "mint", user.address, amount)
        await ctx.transact(user, token.address, token.abi, "approve", flash, amount)
        await ctx.transact(user, flash, ctx.abi("flash"), "deposit", token.address, amount)
    oracle = p.component("oracle")
    await ctx.transact(p.feeder, oracle.proxy, oracle.abi, "setPrice", token.address, 10**18)
    return World(protocol=p, tokens={"lusd": token})


async def attack(ctx: ScenarioContext) -> list[TxHash]:
    me = ctx.attacker
    depositor, deployed = await ctx.deploy(me, ctx.scenario.attacker)
    abi = ctx.artifact(ctx.scenario.attacker).abi
    drained = await ctx.send(me, depositor, abi, "cycle", ctx.address("flash"), ctx.address("lusd"))
    return [deployed, drained]
