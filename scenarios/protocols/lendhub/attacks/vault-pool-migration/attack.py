"""Deploy a contract posing as a lending pool and make the vault migrate its funds into it."""

from __future__ import annotations

from bulwark.domain import TxHash
from bulwark.scenarios.lendhub.attacks import AttackContext


async def attack(ctx: AttackContext) -> list[TxHash]:
    impostor, deployed = await ctx.deploy_attacker(ctx.lendhub.address("usd"))
    drained = await ctx.send(impostor, "run", ctx.lendhub.address("vault"))
    return [deployed, drained]
