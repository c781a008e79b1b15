"""Upgrades and other admin actions really go through the Safe (2 of 3) and the timelock."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
from tests.e2e.protocol.conftest import ProtocolEnv

from bulwark.chain import CallReverted, encode_call
from bulwark.chain.eip1967 import implementation_of
from bulwark.chain.safe import SafeTx, pack_signatures, sign_safe_tx
from bulwark.scenarios.deploy import E18, deploy_implementation
from bulwark.scenarios.governance import (
    exec_via_safe,
    execute_via_safe,
    govern_via_safe,
    schedule_via_safe,
    upgrade_via_safe,
)
from bulwark.scenarios.protocol import ImplSpec

pytestmark = pytest.mark.e2e

VAULT_SPEC = ImplSpec(Path("contracts/protocol/DemoVault.sol"), "DemoVault")


def _new_vault_impl(env: ProtocolEnv) -> str:
    return env.run(deploy_implementation(env.client, env.compiler, env.protocol, VAULT_SPEC))


def test_upgrade_with_two_of_three_signatures(env: ProtocolEnv) -> None:
    p = env.protocol
    before_assets = env.call("vault", "totalAssets")
    before_shares = env.call("vault", "balanceOf", p.users[1].address)
    new_impl = _new_vault_impl(env)
    assert new_impl != p.component("vault").implementation
    # Any two of the three owners will do.
    env.run(upgrade_via_safe(env.client, p, "vault", new_impl, signers=[p.safe_owners[2], p.safe_owners[0]]))
    assert env.run(implementation_of(env.client, p.address("vault"))) == new_impl
    assert env.call("vault", "totalAssets") == before_assets
    assert env.call("vault", "balanceOf", p.users[1].address) == before_shares
    assert env.call("safe", "nonce") == 2  # schedule + execute


def test_one_signature_is_not_enough(env: ProtocolEnv) -> None:
    p = env.protocol
    new_impl = _new_vault_impl(env)
    with pytest.raises(CallReverted, match="GS020"):  # signatures data too short
        env.run(upgrade_via_safe(env.client, p, "vault", new_impl, signers=[p.safe_owners[0]]))
    assert env.run(implementation_of(env.client, p.address("vault"))) == p.component("vault").implementation


def test_a_non_owner_signature_is_rejected(env: ProtocolEnv) -> None:
    p = env.protocol
    new_impl = _new_vault_impl(env)
    for outsider in (p.users[0], p.sentinel, p.deployer):
        with pytest.raises(CallReverted, match="GS026"):  # signer is not an owner
            env.run(upgrade_via_safe(env.client, p, "vault", new_impl, signers=[p.safe_owners[0], outsider]))
    assert env.call("safe", "nonce") == 0


def test_nobody_but_the_safe_uses_the_timelock_and_nobody_but_the_timelock_upgrades(env: ProtocolEnv) -> None:
    p = env.protocol
    new_impl = _new_vault_impl(env)
    upgrade = encode_call(p.abi("vault"), "upgradeToAndCall", new_impl, b"")
    for actor in (*p.safe_owners, p.deployer, p.sentinel):
        with pytest.raises(CallReverted, match="AccessControlUnauthorizedAccount"):
            env.send(actor, "vault", "upgradeToAndCall", new_impl, b"")
        with pytest.raises(CallReverted, match="AccessControlUnauthorizedAccount"):
            env.send(actor, "timelock", "schedule", p.address("vault"), 0, upgrade, b"\0" * 32, b"\1" * 32, 0)
    # The deployer kept nothing: no component role, no timelock admin, not the guardian's owner.
    roles = [b"\0" * 32, env.call("vault", "UPGRADER_ROLE"), env.call("vault", "PAUSER_ROLE")]
    for name in p.components:
        for role in roles:
            assert env.call(name, "hasRole", role, p.deployer.address) is False
    assert env.call("timelock", "hasRole", b"\0" * 32, p.deployer.address) is False
    assert env.call("guardian", "owner").lower() == p.timelock.address.lower()


def test_timelock_delay_is_enforced(env: ProtocolEnv) -> None:
    p = env.protocol
    delay = 3600
    # The timelock administers itself: raising its delay is itself a Safe -> timelock operation.
    update = encode_call(p.timelock.abi, "updateDelay", delay)
    env.run(govern_via_safe(env.client, p, p.timelock.address, update, p.safe_owners[:2]))
    assert env.call("timelock", "getMinDelay") == delay
    slow = dataclasses.replace(p, timelock_delay=delay)

    new_impl = _new_vault_impl(env)
    data = encode_call(p.abi("vault"), "upgradeToAndCall", new_impl, b"")
    with pytest.raises(CallReverted, match="TimelockInsufficientDelay"):
        env.run(
            schedule_via_safe(env.client, slow, p.address("vault"), data, p.safe_owners[:2], delay=delay - 1)
        )
    op = env.run(schedule_via_safe(env.client, slow, p.address("vault"), data, p.safe_owners[:2]))
    with pytest.raises(CallReverted, match="TimelockUnexpectedOperationState"):
        env.run(execute_via_safe(env.client, slow, op, p.safe_owners[:2]))
    env.increase_time(delay - 60)
    with pytest.raises(CallReverted, match="TimelockUnexpectedOperationState"):
        env.run(execute_via_safe(env.client, slow, op, p.safe_owners[:2]))
    env.increase_time(61)
    env.run(execute_via_safe(env.client, slow, op, p.safe_owners[:2]))
    assert env.run(implementation_of(env.client, p.address("vault"))) == new_impl


def test_a_signed_safe_transaction_cannot_be_replayed(env: ProtocolEnv) -> None:
    p = env.protocol
    renew = encode_call(p.guardian.abi, "renew", 3600)
    schedule = encode_call(
        p.timelock.abi, "schedule", p.guardian.address, 0, renew, b"\0" * 32, b"\7" * 32, 0
    )
    env.run(exec_via_safe(env.client, p, p.timelock.address, schedule, p.safe_owners[:2]))
    assert env.call("safe", "nonce") == 1
    # The same signatures now cover nonce 0, which the Safe has used: replaying fails.
    tx = SafeTx(to=p.timelock.address, data=schedule, nonce=0)
    sigs = pack_signatures(
        [sign_safe_tx(tx, p.chain_id, p.safe.address, o.private_key) for o in p.safe_owners[:2]]
    )
    with pytest.raises(CallReverted, match="GS026"):
        env.send(p.safe_owners[0], "safe", "execTransaction", *tx.args(), sigs)
    assert env.call("usd", "balanceOf", p.safe.address) == 0 * E18
