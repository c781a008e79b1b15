"""LendHub deployed as a team adopting Bulwark would run it: Bulwark's guardian deployed first (so
LendHub's initialisers grant it PAUSER_ROLE), its sentinel a spare dev key, then handed to the
timelock. Shared by the reference2 and product end-to-end tests."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bulwark.chain import ChainClient
from bulwark.scenarios.deploy import ChainOps
from bulwark.scenarios.lendhub import LendHub, deploy_lendhub
from bulwark.scenarios.lendhub.model import COMPONENTS
from bulwark.scenarios.protocol import Abi, Actor
from bulwark.toolchain.solc import Compiler

GUARDIAN_SOURCE = Path("contracts/guardian/BulwarkGuardian.sol")
RIGHTS_S = 30 * 24 * 3600


@dataclass(frozen=True)
class GuardedLendHub:
    lendhub: LendHub
    guardian_abi: Abi
    deployer: Actor
    sentinel: Actor
    attacker: Actor


def actor(name: str, account: Any) -> Actor:
    return Actor(name=name, address=account.address, private_key=str(account.private_key))


async def deploy_guarded_lendhub(
    client: ChainClient,
    compiler: Compiler,
    bulwark_compiler: Compiler,
    accounts: list[Any],
    *,
    timelock_delay: int = 60,
) -> GuardedLendHub:
    """LendHub on ``client`` (12 dev accounts: 0-9 LendHub's, 10 the sentinel, 11 the attacker)."""
    deployer, sentinel = actor("deployer", accounts[0]), actor("sentinel", accounts[10])
    ops = ChainOps(client)
    g_art = bulwark_compiler.compile_files([GUARDIAN_SOURCE]).contract("BulwarkGuardian")
    guardian = await ops.deploy(deployer, g_art, deployer.address, RIGHTS_S)
    lendhub = await deploy_lendhub(
        client, compiler, accounts[:10], guardian=guardian, timelock_delay=timelock_delay
    )
    g_abi = tuple(g_art.abi)
    for name in COMPONENTS:
        await ops.transact(deployer, guardian, g_abi, "setProtected", lendhub.address(name), True)
    await ops.transact(deployer, guardian, g_abi, "setSentinel", sentinel.address, True)
    await ops.transact(deployer, guardian, g_abi, "transferOwnership", lendhub.timelock.address)
    return GuardedLendHub(lendhub, g_abi, deployer, sentinel, actor("attacker", accounts[11]))
