"""The guardian can pause and nothing else; its rights are narrow, registered and expiring."""

from __future__ import annotations

import pytest
from eth_utils.crypto import keccak
from tests.e2e.protocol.conftest import ProtocolEnv

from bulwark.chain import CallReverted, TxRequest, encode_call
from bulwark.domain import Address
from bulwark.scenarios.governance import govern_via_safe, unpause_via_safe

pytestmark = pytest.mark.e2e

E18 = 10**18


def selector(signature: str) -> bytes:
    return keccak(text=signature)[:4]


DEPOSIT = selector("deposit(uint256,address)")

# Every state-changing function the guardian has: emergency pauses and the owner's registry.
GUARDIAN_WRITES = {
    "pause",
    "pauseSelectors",
    # containment (issue 5): restrict only, never lift
    "pauseMany",
    "blockAccounts",
    "tightenOutflowLimit",
    "tripOutflowLimit",
    "setSentinel",
    "setProtected",
    "renew",
    "transferOwnership",
    "renounceOwnership",
}


def test_guardian_abi_has_only_pause_powers(env: ProtocolEnv) -> None:
    abi = env.protocol.guardian.abi
    writes = {
        e["name"] for e in abi if e["type"] == "function" and e.get("stateMutability") not in ("view", "pure")
    }
    assert writes == GUARDIAN_WRITES
    names = {str(e.get("name", "")).lower() for e in abi}
    for forbidden in (
        "unpause",
        "unpauseselectors",
        "upgradeto",
        "upgradetoandcall",
        "execute",
        "call",
        "delegatecall",
        "multicall",
        "withdraw",
        "transfer",
        "sweep",
        "setprice",
        "setfee",
    ):
        assert forbidden not in names, forbidden
    assert not any(e["type"] in ("fallback", "receive") for e in abi)


def test_sentinel_pauses_every_component(env: ProtocolEnv) -> None:
    p = env.protocol
    for name in p.components:
        assert env.call(name, "paused") is False
        receipt = env.send(p.sentinel, "guardian", "pause", p.address(name))
        assert env.call(name, "paused") is True
        topic = "0x" + keccak(text="Paused(address,address)").hex()
        assert any(log.address == p.guardian.address and log.topics[0] == topic for log in receipt.logs)
    # A second sentinel transaction for the same incident still lands (idempotent).
    env.send(p.sentinel, "guardian", "pause", p.address("vault"))
    user = p.users[1]
    with pytest.raises(CallReverted, match="EnforcedPause"):
        env.send(user, "vault", "deposit", E18, user.address)


def test_sentinel_cannot_unpause_upgrade_or_pause_directly(env: ProtocolEnv) -> None:
    p = env.protocol
    env.send(p.sentinel, "guardian", "pause", p.address("vault"))
    new_impl = p.component("vault").implementation
    for fn, args in (
        ("unpause", ()),
        ("unpauseSelectors", ([DEPOSIT],)),
        ("upgradeToAndCall", (new_impl, b"")),
        ("pause", ()),  # the sentinel key itself holds no role on the component
    ):
        with pytest.raises(CallReverted, match="AccessControlUnauthorizedAccount"):
            env.send(p.sentinel, "vault", fn, *args)
    assert env.call("vault", "paused") is True


def test_even_the_guardian_contract_cannot_unpause_upgrade_or_reconfigure(env: ProtocolEnv) -> None:
    """Impersonate the guardian: PAUSER_ROLE is all it holds, so a bug in it cannot do more."""
    p = env.protocol
    guardian = Address(p.guardian.address)
    env.run(env.client.impersonate(guardian))
    env.run(env.client.set_balance(guardian, 10 * E18))
    env.send(p.sentinel, "guardian", "pause", p.address("lending"))
    attempts = [
        ("lending", "unpause", ()),
        ("lending", "upgradeToAndCall", (p.component("lending").implementation, b"")),
        ("lending", "setOracle", (p.address("usd"),)),
        ("lending", "setRiskParams", (9000, 9500, 100, 10000)),
        ("flash", "setFee", (100,)),
        ("oracle", "setPrice", (p.address("weth"), 1)),
        ("lending", "grantRole", (b"\x00" * 32, guardian)),
    ]
    for name, fn, args in attempts:
        data = encode_call(p.abi(name), fn, *args)
        with pytest.raises(CallReverted, match="AccessControlUnauthorizedAccount"):
            env.run(
                env.client.transact(
                    TxRequest(to=p.address(name), data=data), sender=guardian, abi=p.abi(name)
                )
            )
    # No funds: the guardian never holds or moves tokens.
    for token in ("usd", "weth"):
        assert env.call(token, "balanceOf", guardian) == 0


def test_unregistered_key_cannot_pause(env: ProtocolEnv) -> None:
    p = env.protocol
    for actor in (p.users[0], p.deployer, p.safe_owners[0], p.feeder):
        with pytest.raises(CallReverted, match=r"NotSentinel"):
            env.send(actor, "guardian", "pause", p.address("vault"))
        with pytest.raises(CallReverted, match=r"NotSentinel"):
            env.send(actor, "guardian", "pauseSelectors", p.address("vault"), [DEPOSIT])
    assert env.call("vault", "paused") is False
    assert env.call("vault", "isSelectorPaused", DEPOSIT) is False


def test_only_registered_targets_can_be_paused(env: ProtocolEnv) -> None:
    p = env.protocol
    for target in (p.address("usd"), p.address("timelock"), p.address("safe")):
        with pytest.raises(CallReverted, match="NotProtected"):
            env.send(p.sentinel, "guardian", "pause", target)


def test_only_the_owner_configures_the_guardian(env: ProtocolEnv) -> None:
    p = env.protocol
    for actor in (p.deployer, p.sentinel, p.safe_owners[0]):
        with pytest.raises(CallReverted, match="OwnableUnauthorizedAccount"):
            env.send(actor, "guardian", "setSentinel", actor.address, True)
        with pytest.raises(CallReverted, match="OwnableUnauthorizedAccount"):
            env.send(actor, "guardian", "renew", 3600)
        with pytest.raises(CallReverted, match="OwnableUnauthorizedAccount"):
            env.send(actor, "guardian", "setProtected", p.address("usd"), True)


def test_pause_rights_expire_and_the_owner_renews_them_through_safe_and_timelock(env: ProtocolEnv) -> None:
    p = env.protocol
    expiry = env.call("guardian", "rightsExpireAt")
    assert env.call("guardian", "rightsActive") is True
    now = env.run(env.client.get_block("latest")).timestamp
    env.increase_time(expiry - now + 1)
    assert env.call("guardian", "rightsActive") is False
    with pytest.raises(CallReverted, match="RightsExpired"):
        env.send(p.sentinel, "guardian", "pause", p.address("vault"))
    with pytest.raises(CallReverted, match="RightsExpired"):
        env.send(p.sentinel, "guardian", "pauseSelectors", p.address("vault"), [DEPOSIT])

    renew = encode_call(p.guardian.abi, "renew", 7 * 24 * 3600)
    env.run(govern_via_safe(env.client, p, p.guardian.address, renew, p.safe_owners[:2]))
    assert env.call("guardian", "rightsActive") is True
    assert env.call("guardian", "pauseRightsDuration") == 7 * 24 * 3600
    env.send(p.sentinel, "guardian", "pause", p.address("vault"))
    assert env.call("vault", "paused") is True


def test_selector_pause_blocks_exactly_the_chosen_functions(env: ProtocolEnv) -> None:
    p = env.protocol
    user = p.users[1]  # holds vault shares and spare usd
    env.send(user, "usd", "approve", p.address("vault"), 10**30)
    env.send(p.sentinel, "guardian", "pauseSelectors", p.address("vault"), [DEPOSIT])
    assert env.call("vault", "isSelectorPaused", DEPOSIT) is True
    assert env.call("vault", "paused") is False

    with pytest.raises(CallReverted, match="SelectorIsPaused"):
        env.send(user, "vault", "deposit", E18, user.address)
    # Everything else keeps working: the other vault entry/exit points and other components.
    env.send(user, "vault", "mint", 10**24, user.address)
    env.send(user, "vault", "withdraw", E18, user.address, user.address)
    env.send(user, "vault", "redeem", 10**24, user.address, user.address)
    env.send(user, "usd", "approve", p.address("lending"), E18)
    env.send(user, "lending", "supply", E18)

    env.run(unpause_via_safe(env.client, p, "vault", p.safe_owners[1:], selectors=[DEPOSIT]))
    assert env.call("vault", "isSelectorPaused", DEPOSIT) is False
    env.send(user, "vault", "deposit", E18, user.address)


def test_full_pause_is_lifted_only_through_governance(env: ProtocolEnv) -> None:
    p = env.protocol
    user = p.users[2]
    env.send(p.sentinel, "guardian", "pause", p.address("vault"))
    with pytest.raises(CallReverted, match="EnforcedPause"):
        env.send(user, "vault", "redeem", 1, user.address, user.address)
    env.run(unpause_via_safe(env.client, p, "vault", [p.safe_owners[0], p.safe_owners[2]]))
    assert env.call("vault", "paused") is False
    env.send(user, "vault", "redeem", 10**6, user.address, user.address)
