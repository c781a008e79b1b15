"""Who may do what: the timelock and the Safe behind the proxies' owners, AccessControl roles,
who may pause and who may upgrade (decided by eth_calls, not by names), a Bulwark guardian."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from eth_utils.crypto import keccak

from bulwark.app.init.found import Abi, FoundContract, PauseInfo, SafeInfo, TimelockInfo
from bulwark.app.init.probe import NOBODY, Accounts, Probe, getters, granted_accounts, has, role_holders
from bulwark.chain import ChainClient
from bulwark.chain.safe import checksum
from bulwark.chain.timelock import DEFAULT_ADMIN_ROLE
from bulwark.domain import Address

TIMELOCK_ROLES = ("PROPOSER_ROLE", "EXECUTOR_ROLE", "CANCELLER_ROLE")


async def find_timelock(
    probe: Probe, client: ChainClient, owners: Sequence[Address | None], pool: Accounts
) -> TimelockInfo | None:
    for cand in dict.fromkeys([*(o for o in owners if o), *pool.all()]):
        delay = await probe.call(cand, "getMinDelay")
        if not isinstance(delay, int):
            continue
        pool.add(*await granted_accounts(client, cand))
        roles = {}
        for role in TIMELOCK_ROLES:
            roles[role] = await role_holders(probe, cand, keccak(text=role), pool.all())
        return TimelockInfo(cand, delay, roles)
    return None


async def find_safe(
    probe: Probe, timelock: TimelockInfo | None, candidates: Sequence[Address]
) -> SafeInfo | None:
    ordered = [*(timelock.roles.get("PROPOSER_ROLE", ()) if timelock else ()), *candidates]
    for cand in dict.fromkeys(ordered):
        owners = await probe.call(cand, "getOwners")
        threshold = await probe.call(cand, "getThreshold")
        if isinstance(owners, list | tuple) and isinstance(threshold, int) and owners:
            return SafeInfo(cand, tuple(checksum(o) for o in owners), threshold)
    return None


async def find_roles(
    probe: Probe, proxy: Address, abi: Abi, candidates: Sequence[Address]
) -> dict[str, tuple[Address, ...]]:
    if abi and not has(abi, "hasRole"):
        return {}
    ids: dict[str, bytes] = {"DEFAULT_ADMIN_ROLE": DEFAULT_ADMIN_ROLE}
    for getter in getters(abi, "bytes32"):
        if getter.endswith("_ROLE"):
            value = await probe.call(proxy, getter, abi=abi)
            if isinstance(value, bytes):
                ids[getter] = value
    out: dict[str, tuple[Address, ...]] = {}
    for name, role in ids.items():
        holders = await role_holders(probe, proxy, role, candidates)
        if holders:
            out[name] = holders
    return out


async def _able(
    probe: Probe,
    proxy: Address,
    fn: str,
    args: tuple[Any, ...],
    roles: Mapping[str, tuple[Address, ...]],
    owner: Address | None,
) -> tuple[tuple[str, ...], tuple[Address, ...]]:
    """Who may call ``fn``: an eth_call from every role holder (and the owner) decides; the guard
    is each role all of whose holders succeed. An account holding several roles makes them all
    candidates: DEFAULT_ADMIN_ROLE (the other roles' admin) then yields to a more specific one."""
    accounts = list(
        dict.fromkeys([*(a for held in roles.values() for a in held), *([owner] if owner else [])])
    )
    able = [a for a in accounts if await probe.succeeds(proxy, fn, *args, sender=a)]
    guards = [name for name, held in roles.items() if held and all(h in able for h in held)]
    if len(guards) > 1 and "DEFAULT_ADMIN_ROLE" in guards:
        guards.remove("DEFAULT_ADMIN_ROLE")
    if not guards and owner is not None and owner in able:
        guards = ["owner"]
    return tuple(guards), tuple(able)


async def find_pause(
    probe: Probe, proxy: Address, abi: Abi, roles: Mapping[str, tuple[Address, ...]], owner: Address | None
) -> PauseInfo | None:
    if not (has(abi, "pause") and has(abi, "paused")):
        return None
    if await probe.call(proxy, "paused") is True:
        return PauseInfo((), (), paused=True, unguarded=False)  # pause() reverts for everyone now
    guards, able = await _able(probe, proxy, "pause", (), roles, owner)
    unguarded = await probe.succeeds(proxy, "pause", sender=NOBODY)
    return PauseInfo(guards, able, paused=False, unguarded=unguarded)


async def find_upgraders(
    probe: Probe,
    proxy: Address,
    impl: Address,
    roles: Mapping[str, tuple[Address, ...]],
    owner: Address | None,
) -> tuple[str, ...]:
    """Who may upgrade a UUPS proxy: re-upgrading to the current implementation, as an eth_call
    (the implementation's own ``_authorizeUpgrade`` decides)."""
    guards, _ = await _able(probe, proxy, "upgradeToAndCall", (impl, b""), roles, owner)
    return guards


async def find_guardian(
    probe: Probe, contracts: Sequence[FoundContract]
) -> tuple[Address | None, Address | None]:
    """A Bulwark guardian (it answers ``isSentinel``) among the accounts able to pause."""
    for c in contracts:
        for holder in c.pause.holders if c.pause else ():
            if await probe.call(holder, "isSentinel", NOBODY) is not None:
                owner = await probe.call(holder, "owner")
                return holder, checksum(owner) if isinstance(owner, str) else None
    return None, None
