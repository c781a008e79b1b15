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
from typing import Any, TypeVar

import pytest
from tests.support.lendhub import deploy_guarded_lendhub

from bulwark.chain import ChainClient
from bulwark.scenarios.deploy import ChainOps
from bulwark.scenarios.lendhub import LendHub, lendhub_project
from bulwark.scenarios.protocol import Abi, Actor
from bulwark.toolchain.anvil import Anvil, AnvilOptions
from bulwark.toolchain.solc import Compiler

T = TypeVar("T")


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
        try:
            guarded = loop.run_until_complete(
                deploy_guarded_lendhub(client, compiler, bulwark_compiler, node.accounts, timelock_delay=60)
            )
            yield LendHubEnv(
                node=node,
                compiler=compiler,
                client=client,
                lendhub=guarded.lendhub,
                guardian_abi=guarded.guardian_abi,
                sentinel=guarded.sentinel,
                attacker=guarded.attacker,
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
