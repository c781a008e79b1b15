"""Submit one legitimately received reward voucher over and over from a relay contract."""

from __future__ import annotations

from eth_account import Account
from eth_account.messages import encode_defunct
from eth_utils.crypto import keccak

from bulwark.domain import TxHash
from bulwark.scenarios.attack import ScenarioContext, World, derived_actor
from bulwark.scenarios.deploy import mint

BUDGET = 120_000 * 10**18
EPOCH = 1
USER_REWARDS = (2_000 * 10**18, 3_500 * 10**18, 5_000 * 10**18)
ATTACKER_REWARD = 1_500 * 10**18
MAX_REPLAYS = 200


def sign_voucher(key: str, account: str, epoch: int, amount: int) -> bytes:
    """What the off-chain rewards service signs: keccak256(abi.encodePacked(account, epoch, amount))."""
    inner = keccak(bytes.fromhex(account[2:]) + epoch.to_bytes(32, "big") + amount.to_bytes(32, "big"))
    return bytes(Account.sign_message(encode_defunct(primitive=inner), key).signature)


async def setup(ctx: ScenarioContext) -> World:
    """Deploy the distributor, fund the epoch's budget, pay out epoch 1 (the attacker claims too)."""
    p = ctx.protocol
    signer = derived_actor("rewards-signer")
    p = await ctx.deploy_component(
        "rewards",
        ctx.implementation,
        (p.address("usd"), signer.address, p.timelock.address, p.guardian.address),
    )
    ctx = ctx.with_world(World(protocol=p))
    rewards = p.component("rewards")
    await mint(ctx.client, p, "usd", rewards.proxy, BUDGET)
    for user, amount in zip(p.users, USER_REWARDS, strict=False):
        sig = sign_voucher(signer.private_key, user.address, EPOCH, amount)
        await ctx.transact(user, rewards.proxy, rewards.abi, "claim", user.address, EPOCH, amount, sig)
    voucher = sign_voucher(signer.private_key, ctx.attacker.address, EPOCH, ATTACKER_REWARD)
    await ctx.transact(
        ctx.attacker,
        rewards.proxy,
        rewards.abi,
        "claim",
        ctx.attacker.address,
        EPOCH,
        ATTACKER_REWARD,
        voucher,
    )
    return World(protocol=p, data={"epoch": EPOCH, "amount": ATTACKER_REWARD, "signature": voucher})


async def attack(ctx: ScenarioContext) -> list[TxHash]:
    me = ctx.attacker
    relay, deployed = await ctx.deploy(me, ctx.scenario.attacker)
    abi = ctx.artifact(ctx.scenario.attacker).abi
    d = ctx.world.data
    drained = await ctx.send(
        me, relay, abi, "relay", ctx.address("rewards"), d["epoch"], d["amount"], d["signature"], MAX_REPLAYS
    )
    return [deployed, drained]
