"""Check a governance policy against the chain before acting on it.

Everything the policy claims about power is read back: the Safe's owners and threshold, the
timelock's roles and minimum delay, and the proxies' admin path (UPGRADER_ROLE and
DEFAULT_ADMIN_ROLE held by the timelock, nobody else's sentinel key holding either). Every
mismatch is collected and named in one error.
"""

from __future__ import annotations

from bulwark.chain import ChainClient
from bulwark.chain.safe import checksum
from bulwark.chain.timelock import (
    CANCELLER_ROLE,
    DEFAULT_ADMIN_ROLE,
    EXECUTOR_ROLE,
    GUARDIAN_ABI,
    PROPOSER_ROLE,
    PROXY_ABI,
    TIMELOCK_ABI,
    UPGRADER_ROLE,
    safe_abi,
    view,
)
from bulwark.domain.govern import Policy
from bulwark.errors import ChainError, PolicyMismatch
from bulwark.logs import get_logger

log = get_logger(__name__)


def policy_problems(policy: Policy) -> list[str]:
    """What is wrong with the policy on its own (no chain needed)."""
    problems: list[str] = []
    owners = {o.lower() for o in policy.owners}
    if not 0 < policy.safe_threshold <= len(owners):
        problems.append(f"Safe threshold {policy.safe_threshold} is impossible with {len(owners)} owners")
    for s in policy.sentinels:
        if s.lower() in owners:
            problems.append(f"sentinel {s} is a Safe owner: a pause-only key must not sign upgrades")
    for c in policy.council:
        if c.lower() not in owners:
            problems.append(f"council member {c} is not a Safe owner")
    for (action, sev), rule in policy.rules.items():
        where = f"{action.value}/{sev.name.lower() if sev is not None else 'default'}"
        eligible = policy.eligible(rule)
        if rule.threshold < policy.safe_threshold:
            problems.append(
                f"{where}: threshold {rule.threshold} is below the Safe's threshold {policy.safe_threshold}"
            )
        if rule.threshold > len(eligible):
            problems.append(f"{where}: threshold {rule.threshold} but only {len(eligible)} eligible signers")
        for s in rule.signers:
            if s.lower() not in owners:
                problems.append(f"{where}: signer {s} is not a Safe owner")
        if rule.delay_s < 0 or rule.ttl_s <= 0:
            problems.append(f"{where}: delay must be >= 0 and ttl > 0")
    return problems


async def check_policy(client: ChainClient, policy: Policy) -> None:
    """Raise :class:`PolicyMismatch` naming every way the chain disagrees with ``policy``."""
    problems = policy_problems(policy)
    try:
        problems += await _chain_problems(client, policy)
    except ChainError as exc:
        raise PolicyMismatch(
            f"policy of {policy.protocol}: cannot read the governance contracts: {exc.user_message}"
        ) from exc
    if problems:
        raise PolicyMismatch(
            f"policy of {policy.protocol} does not match the chain: " + "; ".join(problems),
            detail="\n".join(problems),
        )
    log.info("governance policy checked", protocol=policy.protocol, proxies=len(policy.proxies))


async def _chain_problems(client: ChainClient, policy: Policy) -> list[str]:
    problems: list[str] = []
    sabi = safe_abi()
    if not await client.get_code(policy.safe):
        return [f"no contract at the Safe address {policy.safe}"]
    if not await client.get_code(policy.timelock):
        return [f"no contract at the timelock address {policy.timelock}"]
    chain_owners = {checksum(o) for o in await view(client, policy.safe, sabi, "getOwners")}
    want = {checksum(o) for o in policy.owners}
    for o in sorted(want - chain_owners):
        problems.append(f"{o} is configured as a Safe owner but is not one on chain")
    for o in sorted(chain_owners - want):
        problems.append(f"Safe owner {o} on chain is missing from the policy")
    threshold = int(await view(client, policy.safe, sabi, "getThreshold"))
    if threshold != policy.safe_threshold:
        problems.append(f"Safe threshold is {threshold} on chain, {policy.safe_threshold} in the policy")

    tl = policy.timelock
    min_delay = int(await view(client, tl, TIMELOCK_ABI, "getMinDelay"))
    for (action, sev), rule in policy.rules.items():
        if rule.delay_s < min_delay:
            where = f"{action.value}/{sev.name.lower() if sev is not None else 'default'}"
            problems.append(f"{where}: delay {rule.delay_s}s is below the timelock's minimum {min_delay}s")
    for role, name in ((PROPOSER_ROLE, "PROPOSER_ROLE"), (CANCELLER_ROLE, "CANCELLER_ROLE")):
        if not await view(client, tl, TIMELOCK_ABI, "hasRole", role, policy.safe):
            problems.append(f"the Safe {policy.safe} lacks the timelock's {name}")
    if not await view(client, tl, TIMELOCK_ABI, "hasRole", EXECUTOR_ROLE, policy.safe):
        problems.append(f"the Safe {policy.safe} lacks the timelock's EXECUTOR_ROLE")
    if policy.dao_executor is not None and not await view(
        client, tl, TIMELOCK_ABI, "hasRole", EXECUTOR_ROLE, policy.dao_executor
    ):
        problems.append(f"DAO executor {policy.dao_executor} lacks the timelock's EXECUTOR_ROLE")
    for s in policy.sentinels:
        for role, name in ((PROPOSER_ROLE, "PROPOSER_ROLE"), (EXECUTOR_ROLE, "EXECUTOR_ROLE")):
            if await view(client, tl, TIMELOCK_ABI, "hasRole", role, s):
                problems.append(f"sentinel {s} holds the timelock's {name}")

    for name, proxy in policy.proxies.items():
        if not await client.get_code(proxy):
            problems.append(f"{name}: no contract at {proxy}")
            continue
        for role, rname in ((UPGRADER_ROLE, "UPGRADER_ROLE"), (DEFAULT_ADMIN_ROLE, "DEFAULT_ADMIN_ROLE")):
            if not await view(client, proxy, PROXY_ABI, "hasRole", role, tl):
                problems.append(f"{name}: the timelock does not hold {rname} on {proxy}")
            for s in policy.sentinels:
                if await view(client, proxy, PROXY_ABI, "hasRole", role, s):
                    problems.append(f"{name}: sentinel {s} holds {rname} (it may only pause)")

    if policy.guardian is not None:
        owner = checksum(await view(client, policy.guardian, GUARDIAN_ABI, "owner"))
        if owner != checksum(tl):
            problems.append(f"guardian {policy.guardian} is owned by {owner}, not the timelock")
        for s in policy.sentinels:
            if not await view(client, policy.guardian, GUARDIAN_ABI, "isSentinel", s):
                problems.append(f"{s} is not a sentinel of the guardian {policy.guardian}")
    if policy.multisend is not None and not await client.get_code(policy.multisend):
        problems.append(f"no MultiSend contract at {policy.multisend}")
    return problems
