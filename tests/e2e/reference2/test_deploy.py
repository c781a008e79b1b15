"""LendHub is deployed the way its README says: power sits with the Safe, the timelock and the
guardian, not the deployer; its own forge tests pass; benign traffic works."""

from __future__ import annotations

import pytest
from eth_utils.crypto import keccak
from tests.e2e.reference2.conftest import LendHubEnv

from bulwark.chain.eip1967 import implementation_of
from bulwark.chain.safe import checksum
from bulwark.scenarios.lendhub import benign_traffic, lendhub_project, proxy_admin_of
from bulwark.scenarios.lendhub.deploy import compile_lendhub
from bulwark.scenarios.lendhub.model import COMPONENTS, E18

pytestmark = pytest.mark.e2e

PAUSER_ROLE = keccak(text="PAUSER_ROLE")
ADMIN_ROLE = b"\x00" * 32


def test_each_component_sits_behind_a_transparent_proxy_whose_admin_the_timelock_owns(
    env: LendHubEnv,
) -> None:
    lh = env.lendhub
    admins = set()
    for name in COMPONENTS:
        comp = lh.component(name)
        assert env.run(implementation_of(env.client, comp.proxy)) == comp.implementation
        admin = env.run(proxy_admin_of(env.client, comp.proxy))
        assert admin == comp.proxy_admin
        admins.add(admin)
        assert checksum(env.call(admin, lh.proxy_admin_abi, "owner")) == lh.timelock.address
        assert env.read(name, "hasRole", ADMIN_ROLE, lh.timelock.address) is True
        assert env.read(name, "hasRole", PAUSER_ROLE, lh.guardian) is True
        for outsider in (lh.deployer.address, *[o.address for o in lh.safe_owners]):
            assert env.read(name, "hasRole", ADMIN_ROLE, outsider) is False
            assert env.read(name, "hasRole", PAUSER_ROLE, outsider) is False
    assert len(admins) == len(COMPONENTS)  # one ProxyAdmin per proxy, as OpenZeppelin v5 deploys them


def test_the_safe_is_a_two_of_three_proposing_to_a_sixty_second_timelock(env: LendHubEnv) -> None:
    lh = env.lendhub
    assert env.read("safe", "getThreshold") == 2
    assert sorted(map(checksum, env.read("safe", "getOwners"))) == sorted(o.address for o in lh.safe_owners)
    assert env.read("timelock", "getMinDelay") == 60
    for role in ("PROPOSER_ROLE", "CANCELLER_ROLE", "EXECUTOR_ROLE"):
        assert env.read("timelock", "hasRole", keccak(text=role), lh.safe.address) is True
        assert env.read("timelock", "hasRole", keccak(text=role), lh.deployer.address) is False
    assert env.read("timelock", "hasRole", ADMIN_ROLE, lh.deployer.address) is False


def test_seeded_state(env: LendHubEnv) -> None:
    lh = env.lendhub
    assert env.read("pool", "supplySharesOf", lh.lender.address) == 1_000_000 * E18
    assert env.read("pool", "totalBorrows") >= 40_000 * E18
    assert env.read("vault", "totalSupply") == 75_000 * E18
    assert env.read("vault", "idle") == 15_000 * E18  # 20% buffer, the rest lent to the pool
    assert env.read("vault", "paused") is False and env.read("pool", "paused") is False


def test_benign_traffic_from_several_users_succeeds(env: LendHubEnv) -> None:
    before = env.read("pool", "totalAssets")
    sent = env.run(benign_traffic(env.client, env.lendhub, txs=40, seed=11))
    assert len(sent) == 40
    assert len({tx.user for tx in sent}) == len(env.lendhub.users)
    kinds = {tx.action.split()[0] for tx in sent}
    assert {"supply", "borrow", "repay", "vault"} <= kinds
    assert env.read("pool", "totalAssets") != before


def test_solcjs_compiles_the_project_with_its_own_settings(lendhub_env: LendHubEnv) -> None:
    protocol, deploy = compile_lendhub(lendhub_env.lendhub.project, lendhub_env.compiler)
    for result in (protocol, deploy):
        assert result.version == "0.8.26"  # foundry.toml, not the newest release the pragma allows
        assert result.settings["optimizer"] == {"enabled": True, "runs": 200}
        assert result.settings["evmVersion"] == "cancun"
    ozu = [u for u in protocol.sources if "@openzeppelin/contracts-upgradeable/" in u]
    assert ozu and all(u.startswith("../../../node_modules/") for u in ozu)  # through remappings.txt


def test_the_projects_forge_tests_pass_through_the_solc_shim() -> None:
    run = lendhub_project().forge_test(timeout=300)
    assert run.solc_version == "0.8.26"
    assert len(run.tests) >= 17
    assert run.passed, [f"{t.name}: {t.reason}" for t in run.failures]
