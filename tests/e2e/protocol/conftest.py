"""One demo-protocol deployment per test session; every test runs inside an EVM snapshot.

Reusable from other test folders:

    from tests.e2e.protocol.conftest import ProtocolEnv, env, protocol_env  # noqa: F401
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine, Iterator
from dataclasses import dataclass, field
from typing import Any, TypeVar

import pytest

from bulwark.chain import ChainClient
from bulwark.domain import Receipt
from bulwark.scenarios.deploy import ChainOps, deploy_protocol
from bulwark.scenarios.protocol import Actor, DemoProtocol
from bulwark.toolchain.anvil import Anvil, AnvilOptions
from bulwark.toolchain.solc import Compiler

T = TypeVar("T")


@dataclass
class ProtocolEnv:
    """A live anvil with the demo protocol on it, and a sync face for tests."""

    node: Anvil
    compiler: Compiler
    client: ChainClient
    protocol: DemoProtocol
    loop: asyncio.AbstractEventLoop = field(repr=False)

    def run(self, coro: Coroutine[Any, Any, T]) -> T:
        # One loop for the whole session: the client's HTTP session is bound to it.
        return self.loop.run_until_complete(coro)

    @property
    def ops(self) -> ChainOps:
        return ChainOps(self.client)

    def call(self, name: str, fn: str, *args: Any) -> Any:
        p = self.protocol
        return self.run(self.ops.call(p.address(name), p.abi(name), fn, *args))

    def send(self, actor: Actor, name: str, fn: str, *args: Any) -> Receipt:
        p = self.protocol
        return self.run(self.ops.transact(actor, p.address(name), p.abi(name), fn, *args))

    def increase_time(self, seconds: int) -> None:
        self.run(self.client.request("evm_increaseTime", [seconds]))
        self.run(self.client.mine())


@pytest.fixture(scope="session")
def protocol_env() -> Iterator[ProtocolEnv]:
    """Deploy once: its own anvil (so no other suite's state leaks in), a warm compiler."""
    loop = asyncio.new_event_loop()
    with Anvil(AnvilOptions()) as node, Compiler() as compiler:
        client = ChainClient(node.http_url)
        try:
            protocol = loop.run_until_complete(deploy_protocol(client, compiler, node.accounts))
            yield ProtocolEnv(node=node, compiler=compiler, client=client, protocol=protocol, loop=loop)
        finally:
            loop.run_until_complete(client.close())
            loop.close()


@pytest.fixture
def env(protocol_env: ProtocolEnv) -> Iterator[ProtocolEnv]:
    """The session deployment, rolled back after the test."""
    snap = protocol_env.run(protocol_env.client.snapshot())
    try:
        yield protocol_env
    finally:
        protocol_env.run(protocol_env.client.revert(snap))
