"""Benign LendHub traffic: users supply, redeem, deposit into the vault, borrow, repay, withdraw.

``benign_traffic(client, lendhub, txs=30, seed=7)`` sends ``txs`` transactions chosen by a seeded
RNG among what each user can legitimately do right now (read from the chain first), so every one
must succeed; a revert is a :class:`ScenarioError` naming the user and the action.
"""

from __future__ import annotations

import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from bulwark.chain import CallReverted, ChainClient
from bulwark.domain import TxHash
from bulwark.errors import ScenarioError
from bulwark.scenarios.deploy import ChainOps
from bulwark.scenarios.lendhub.deploy import transact
from bulwark.scenarios.lendhub.model import E18, LendHub
from bulwark.scenarios.protocol import Abi, Actor

ACTIONS = ("supply", "redeem", "deposit", "withdraw", "post", "borrow", "repay", "release")


@dataclass(frozen=True, slots=True)
class BenignTx:
    user: str
    action: str
    tx_hash: TxHash


async def benign_traffic(
    client: ChainClient, lendhub: LendHub, *, txs: int = 30, seed: int = 7
) -> list[BenignTx]:
    """Send ``txs`` legitimate transactions from the seeded users; all must succeed."""
    rng = random.Random(seed)
    ops = ChainOps(client)
    pool, vault, usd = lendhub.component("pool"), lendhub.component("vault"), lendhub.tokens["usd"]
    sent: list[BenignTx] = []

    async def read(to: str, abi: Abi, fn: str, *args: object) -> int:
        return int(await ops.call(to, abi, fn, *args))

    async def plan(user: Actor, action: str) -> tuple[str, Callable[[], Awaitable[TxHash]]] | None:
        """``(description, send)`` for an action this user can take now, or None."""
        who = user.address
        balance = await read(usd.address, usd.abi, "balanceOf", who)
        amount = rng.randint(100, 2_000) * E18

        def tx(to: str, abi: Abi, fn: str, *args: object, value: int = 0) -> Callable[[], Awaitable[TxHash]]:
            async def _send() -> TxHash:
                receipt = await transact(client, user, to, abi, fn, *args, value=value)
                return receipt.tx_hash

            return _send

        if action == "supply" and balance >= amount:
            return f"supply {amount // E18}", tx(pool.proxy, pool.abi, "supply", amount)
        if action == "deposit" and balance >= amount:
            return f"vault deposit {amount // E18}", tx(vault.proxy, vault.abi, "deposit", amount, who)
        if action == "redeem":
            shares = await read(pool.proxy, pool.abi, "supplySharesOf", who)
            if shares:
                part = max(1, shares * rng.randint(10, 100) // 100)
                return f"redeem {part * 100 // shares}%", tx(pool.proxy, pool.abi, "redeem", part)
        if action == "withdraw":
            shares = await read(vault.proxy, vault.abi, "balanceOf", who)
            if shares:
                part = max(1, shares * rng.randint(10, 60) // 100)
                return f"vault redeem {part * 100 // shares}%", tx(
                    vault.proxy, vault.abi, "redeem", part, who
                )
        if action == "post":
            eth = rng.randint(1, 5) * E18
            return f"post {eth // E18} ETH", tx(pool.proxy, pool.abi, "depositCollateral", value=eth)
        collateral = await read(pool.proxy, pool.abi, "collateralOf", who)
        debt = await read(pool.proxy, pool.abi, "debtOf", who)
        limit = await read(pool.proxy, pool.abi, "borrowLimit", collateral)
        if action == "borrow" and limit > debt + 10 * E18:
            room = (limit - debt) * rng.randint(10, 50) // 100
            return f"borrow {room // E18}", tx(pool.proxy, pool.abi, "borrow", room)
        if action == "repay" and debt and balance:
            part = min(balance, debt * rng.randint(20, 100) // 100)
            return f"repay {part // E18}", tx(pool.proxy, pool.abi, "repay", who, part)
        if action == "release" and collateral:
            # Keep the position at half its limit at most after the withdrawal.
            per_eth = await read(pool.proxy, pool.abi, "borrowLimit", E18)
            locked = -(-2 * debt * E18 // per_eth) if debt else 0
            free = collateral - locked if collateral > locked else 0
            if free:
                part = max(1, free * rng.randint(10, 100) // 100)
                return f"withdraw {part / E18:.2f} ETH", tx(pool.proxy, pool.abi, "withdrawCollateral", part)
        return None

    users = list(lendhub.users)
    while len(sent) < txs:
        user = rng.choice(users)
        planned = await plan(user, rng.choice(ACTIONS))
        if planned is None:
            continue
        what, send = planned
        try:
            tx_hash = await send()
        except CallReverted as exc:
            raise ScenarioError(f"benign {what} by {user.name} reverted: {exc.reason}") from exc
        sent.append(BenignTx(user.name, what, tx_hash))
    return sent
