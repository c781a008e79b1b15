"""A scenario played on a kept-alive anvil (the "live chain" a verification forks).

Built from the runner's building blocks (deploy, setup, benign traffic, attack) so the chain
stays up after the attack and the proxy, protected contracts and attack hashes are known.
Shared by the e2e tests and bench/verify.py.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from bulwark.chain import ChainClient, run
from bulwark.domain import Address, TxHash
from bulwark.scenarios.attack import World
from bulwark.scenarios.benign import BenignTraffic
from bulwark.scenarios.corpus import Scenario
from bulwark.scenarios.deploy import deploy_protocol
from bulwark.scenarios.runner import RunOptions, prepare_scenario
from bulwark.toolchain.anvil import Anvil, AnvilOptions
from bulwark.toolchain.solc import Compiler


@dataclass(frozen=True, slots=True)
class LiveRun:
    url: str
    scenario: Scenario
    proxy: Address
    protected: tuple[Address, ...]
    victims: tuple[Address, ...]
    attack_txs: tuple[TxHash, ...]
    vulnerable: Path
    fix: Path
    contract: str
    world: World


async def _play(
    scenario: Scenario, client: ChainClient, accounts: list, compiler: Compiler, benign: int
) -> tuple[World, list[TxHash]]:  # type: ignore[type-arg]
    ctx, attack, _ = await prepare_scenario(scenario, RunOptions(), client, accounts, compiler)
    traffic = BenignTraffic(client, ctx.protocol, compiler, seed=0, exclude=scenario.benign_exclude)
    await traffic.run(benign)
    hashes = [TxHash(h) for h in await attack(ctx)]
    return ctx.world, hashes


@contextmanager
def live_scenario(scenario: Scenario, compiler: Compiler, *, benign: int = 20) -> Iterator[LiveRun]:
    with Anvil(AnvilOptions(accounts=20)) as node:

        async def go() -> tuple[World, list[TxHash]]:
            async with ChainClient(node.http_url) as client:
                return await _play(scenario, client, node.accounts, compiler, benign)

        world, hashes = run(go())
        component = scenario.component
        proxies = tuple(c.proxy for c in world.protocol.components.values())
        yield LiveRun(
            url=node.http_url,
            scenario=scenario,
            proxy=world.protocol.components[component].proxy,
            protected=proxies,
            victims=tuple(world.victims),
            attack_txs=tuple(hashes),
            vulnerable=scenario.vulnerable.source,
            fix=scenario.fix.source,
            contract=scenario.fix.contract,
            world=world,
        )


@dataclass(frozen=True, slots=True)
class LiveProtocol:
    url: str
    proxies: dict[str, Address]


@contextmanager
def live_protocol(compiler: Compiler, *, benign: int = 10) -> Iterator[LiveProtocol]:
    """The safe demo protocol with some benign traffic, no attack."""
    with Anvil(AnvilOptions(accounts=20)) as node:

        async def go() -> dict[str, Address]:
            async with ChainClient(node.http_url) as client:
                protocol = await deploy_protocol(client, compiler, node.accounts)
                await BenignTraffic(client, protocol, compiler, seed=1).run(benign)
                return {name: c.proxy for name, c in protocol.components.items()}

        yield LiveProtocol(node.http_url, run(go()))
