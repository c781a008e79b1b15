"""LendHub's attacks: each drains the unprotected protocol; its reference fix, upgraded through the
real Safe -> timelock -> ProxyAdmin path, stops it while benign traffic keeps working; a pause by
the PAUSER_ROLE holder (Bulwark's guardian, driven by its sentinel) stops the attacked function."""

from __future__ import annotations

from pathlib import Path

import pytest
from tests.e2e.reference2.conftest import LendHubEnv

from bulwark.chain import CallReverted, ChainClient, Signer, TxRequest
from bulwark.chain.abi import encode_call
from bulwark.domain import TxHash
from bulwark.scenarios.deploy import ChainOps
from bulwark.scenarios.lendhub import (
    benign_traffic,
    deploy_implementation,
    lendhub_project,
    load_attacks,
    protocol_holdings,
    run_attack,
    unpause_component,
    upgrade_component,
)

pytestmark = pytest.mark.e2e

ATTACKS = load_attacks(lendhub_project().root)


def _usd(env: LendHubEnv, who: str) -> int:
    usd = env.lendhub.tokens["usd"]
    return int(env.call(usd.address, usd.abi, "balanceOf", who))


async def _statuses(client: ChainClient, hashes: list[TxHash]) -> list[bool]:
    out = []
    for h in hashes:
        receipt = await client.get_receipt(h)
        assert receipt is not None
        out.append(bool(receipt.status))
    return out


def _attack(env: LendHubEnv, name: str) -> tuple[int, int, list[bool]]:
    """Run the attack; returns (protocol loss, attacker gain, tx statuses), in USD wei."""
    held, gained = env.run(protocol_holdings(env.client, env.lendhub)), _usd(env, env.attacker.address)
    hashes = env.run(run_attack(env.client, env.compiler, env.lendhub, name, env.attacker))
    statuses = env.run(_statuses(env.client, hashes))
    loss = held - env.run(protocol_holdings(env.client, env.lendhub))
    return loss, _usd(env, env.attacker.address) - gained, statuses


def test_the_attacks_are_of_different_classes() -> None:
    assert len(ATTACKS) >= 2
    assert len({a.vuln_class for a in ATTACKS.values()}) == len(ATTACKS)
    assert {a.component for a in ATTACKS.values()} == {"pool", "vault"}


@pytest.mark.parametrize("name", sorted(ATTACKS))
def test_attack_drains_the_unprotected_protocol(env: LendHubEnv, name: str) -> None:
    env.run(benign_traffic(env.client, env.lendhub, txs=10, seed=5))
    loss, gain, statuses = _attack(env, name)
    assert all(statuses)
    assert loss > 10_000 * 10**18
    assert gain == loss  # every dollar the protocol lost went to the attacker


@pytest.mark.parametrize("name", sorted(ATTACKS))
def test_reference_fix_upgraded_through_safe_and_timelock_stops_the_attack(
    env: LendHubEnv, name: str
) -> None:
    attack, lh = ATTACKS[name], env.lendhub
    comp = lh.component(attack.component)
    impl = env.run(deploy_implementation(env.client, env.compiler, lh, attack.component, attack.fix))
    before = env.read(attack.component, "totalAssets")
    env.run(upgrade_component(env.client, lh, attack.component, impl, signers=lh.safe_owners[1:3]))
    # State survives the upgrade (interest accrued during the timelock delay only adds).
    assert before <= env.read(attack.component, "totalAssets") < before * 1_000_001 // 1_000_000
    assert impl != comp.implementation

    loss, gain, statuses = _attack(env, name)
    assert statuses[0] and not statuses[-1]  # the attacker's contract deploys; its strike reverts
    assert loss == 0 and gain == 0
    assert len(env.run(benign_traffic(env.client, lh, txs=20, seed=9))) == 20


@pytest.mark.parametrize("name", sorted(ATTACKS))
def test_guardian_pause_stops_the_attacked_function_and_only_governance_unpauses(
    env: LendHubEnv, name: str
) -> None:
    attack, lh = ATTACKS[name], env.lendhub
    target = lh.address(attack.component)
    ops = ChainOps(env.client)
    env.run(ops.transact(env.sentinel, lh.guardian, env.guardian_abi, "pause", target))
    assert env.read(attack.component, "paused") is True

    loss, gain, statuses = _attack(env, name)
    assert not statuses[-1] and loss == 0 and gain == 0

    for who in (env.sentinel, lh.deployer, lh.safe_owners[0]):
        with pytest.raises(CallReverted, match="AccessControlUnauthorizedAccount"):
            env.run(ops.transact(who, target, lh.abi(attack.component), "unpause"))
    env.run(unpause_component(env.client, lh, attack.component, lh.safe_owners[:2]))
    assert env.read(attack.component, "paused") is False


def test_one_owner_cannot_upgrade_and_the_timelock_delay_holds(env: LendHubEnv) -> None:
    lh = env.lendhub
    impl = env.run(deploy_implementation(env.client, env.compiler, lh, "vault", Path("fix/SavingsVault.sol")))
    with pytest.raises(CallReverted, match="GS020"):  # signatures data too short
        env.run(upgrade_component(env.client, lh, "vault", impl, signers=lh.safe_owners[:1]))
    with pytest.raises(CallReverted, match="TimelockUnexpectedOperationState"):
        env.run(
            upgrade_component(env.client, lh, "vault", impl, signers=lh.safe_owners[:2], advance_time=False)
        )
    assert lh.component("vault").implementation != impl


@pytest.mark.parametrize("name", sorted(ATTACKS))
def test_a_pending_attack_is_front_run_by_the_guardian_pause(env: LendHubEnv, name: str) -> None:
    """The attack sits in the mempool; the sentinel's pause, paying a higher tip, lands first in the
    same block (anvil orders by fee), so the strike reverts and nothing is lost."""
    attack, lh, client = ATTACKS[name], env.lendhub, env.client
    target = lh.address(attack.component)
    held = env.run(protocol_holdings(client, lh))
    env.run(client.set_automine(False))
    try:
        hashes = env.run(run_attack(client, env.compiler, lh, name, env.attacker, wait=False))
        assert [env.run(client.get_receipt(h)) for h in hashes] == [None] * len(hashes)
        pause = TxRequest(
            to=lh.guardian,
            data=encode_call(env.guardian_abi, "pause", target),
            gas=300_000,
            max_priority_fee_per_gas=50 * 10**9,
            max_fee_per_gas=100 * 10**9,
        )
        pause_hash = env.run(client.send_transaction(pause, sender=Signer(env.sentinel.private_key)))
        env.run(client.mine())
    finally:
        env.run(client.set_automine(True))
    receipts = [env.run(client.get_receipt(h)) for h in (pause_hash, *hashes)]
    assert all(r is not None for r in receipts)
    assert len({r.block_number for r in receipts if r}) == 1  # one block: a race, not a sequence
    assert [bool(r and r.status) for r in receipts] == [True, True, *[False] * (len(hashes) - 1)]
    assert env.read(attack.component, "paused") is True
    assert env.run(protocol_holdings(client, lh)) == held
