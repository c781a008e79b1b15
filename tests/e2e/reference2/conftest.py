"""LendHub (the second reference protocol) on a real anvil: one deployment per session, guarded by
Bulwark's own guardian contract; every test runs inside an EVM snapshot.

The guardian (contracts/guardian/BulwarkGuardian.sol, compiled from Bulwark's checkout) is deployed
first, so LendHub's initialisers can grant it PAUSER_ROLE; its sentinel is a spare dev key, and it is
handed to the timelock afterwards, as a team adopting Bulwark would set it up.
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import pytest

from bulwark.chain import ChainClient
from bulwark.scenarios.deploy import ChainOps
from bulwark.scenarios.lendhub import LendHub, deploy_lendhub, lendhub_project
from bulwark.scenarios.lendhub.model import COMPONENTS
from bulwark.scenarios.protocol import Abi, Actor
from bulwark.toolchain.anvil import Anvil, AnvilOptions
from bulwark.toolchain.solc import Compiler

T = TypeVar("T")
GUARDIAN_SOURCE = Path("contracts/guardian/BulwarkGuardian.sol")
RIGHTS_S = 30 * 24 * 3600


@dataclass
class LendHubEnv:
    node: Anvil
    compiler: Compiler  # the project's: its remappings and settings
    client: ChainClient
    lendhub: LendHub
    guardian_abi: Abi
    sentinel: Actor
    attacker: Actor
    loop: asyncio.AbstractEventLoop = field(repr=False)

    def run(self, coro: Coroutine[Any, Any, T]) -> T:
        return self.loop.run_until_complete(coro)

    def call(self, to: str, abi: Abi, fn: str, *args: Any) -> Any:
        return self.run(ChainOps(self.client).call(to, abi, fn, *args))

    def read(self, name: str, fn: str, *args: Any) -> Any:
        return self.call(self.lendhub.address(name), self.lendhub.abi(name), fn, *args)


def _actor(name: str, account: Any) -> Actor:
    return Actor(name=name, address=account.address, private_key=str(account.private_key))


@pytest.fixture(scope="session")
def lendhub_env() -> Iterator[LendHubEnv]:
    loop = asyncio.new_event_loop()
    project = lendhub_project()
    with (
        Anvil(AnvilOptions(accounts=12)) as node,
        project.compiler() as compiler,
        Compiler() as bulwark_compiler,
    ):
        client = ChainClient(node.http_url)
        accounts = node.accounts
        deployer, sentinel = _actor("deployer", accounts[0]), _actor("sentinel", accounts[10])
        ops = ChainOps(client)
        try:
            g_art = bulwark_compiler.compile_files([GUARDIAN_SOURCE]).contract("BulwarkGuardian")
            guardian = loop.run_until_complete(ops.deploy(deployer, g_art, deployer.address, RIGHTS_S))
            lendhub = loop.run_until_complete(
                deploy_lendhub(client, compiler, accounts[:10], guardian=guardian, timelock_delay=60)
            )
            g_abi = tuple(g_art.abi)

            async def _hand_over() -> None:
                for name in COMPONENTS:
                    await ops.transact(deployer, guardian, g_abi, "setProtected", lendhub.address(name), True)
                await ops.transact(deployer, guardian, g_abi, "setSentinel", sentinel.address, True)
                await ops.transact(deployer, guardian, g_abi, "transferOwnership", lendhub.timelock.address)

            loop.run_until_complete(_hand_over())
            yield LendHubEnv(
                node=node,
                compiler=compiler,
                client=client,
                lendhub=lendhub,
                guardian_abi=g_abi,
                sentinel=sentinel,
                attacker=_actor("attacker", accounts[11]),
                loop=loop,
            )
        finally:
            loop.run_until_complete(client.close())
            loop.close()


@pytest.fixture
def env(lendhub_env: LendHubEnv) -> Iterator[LendHubEnv]:
    """The session deployment, rolled back after the test."""
    snap = lendhub_env.run(lendhub_env.client.snapshot())
    try:
        yield lendhub_env
    finally:
        lendhub_env.run(lendhub_env.client.revert(snap))
