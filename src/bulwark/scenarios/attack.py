"""Running an attack: the context a scenario script gets, and the helpers it sends transactions with.

A scenario's ``attack.py`` defines::

    async def setup(ctx: ScenarioContext) -> World        # optional: extra components, victims
    async def attack(ctx: ScenarioContext) -> list[TxHash]

``setup`` runs right after the protocol is deployed (before benign traffic) and may add extra
components behind their own proxies (:meth:`ScenarioContext.deploy_component`). ``attack`` sends
the attacker's transactions and returns their hashes in order. Every attack transaction is an
ordinary signed transaction sent with ``eth_sendRawTransaction`` and then awaited, so a mempool
watcher sees it pending; one that would revert is still sent (with a fixed gas limit) rather than
refused by gas estimation, which is what a real attacker's bot does when racing.
"""

from __future__ import annotations

import hashlib
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Protocol, cast

from eth_account import Account

from bulwark.chain import CallReverted, ChainClient, Signer, TxRequest, encode_deploy
from bulwark.chain.abi import encode_call
from bulwark.chain.safe import checksum
from bulwark.domain import Address, Receipt, TxHash
from bulwark.errors import ChainError, ScenarioError
from bulwark.scenarios.corpus import ContractRef, Scenario
from bulwark.scenarios.deploy import ChainOps, build_protocol, compile_impl
from bulwark.scenarios.governance import govern_via_safe
from bulwark.scenarios.protocol import Abi, Actor, Component, DemoProtocol, Deployed, ImplSpec
from bulwark.toolchain.artifacts import ContractArtifact
from bulwark.toolchain.solc import Compiler

__all__ = [
    "ATTACK_GAS",
    "ScenarioContext",
    "ScenarioScript",
    "SentTx",
    "World",
    "derived_actor",
    "send_signed",
]

ATTACK_GAS = 8_000_000
"""Gas limit for an attack transaction whose estimation reverts (it is sent anyway)."""


@dataclass(frozen=True, slots=True)
class World:
    """What a scenario's ``setup`` added around the deployed protocol.

    ``protocol`` may carry extra components (they are protected contracts like the others);
    ``tokens`` are extra assets counted in losses, priced by the protocol oracle; ``victims``
    are accounts whose holdings count in the loss (e.g. a depositor who gets front-run);
    ``data`` is anything the attack needs (a signed voucher, an amount).
    """

    protocol: DemoProtocol
    tokens: Mapping[str, Deployed] = field(default_factory=dict)
    victims: tuple[Address, ...] = ()
    data: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class SentTx:
    tx_hash: TxHash
    receipt: Receipt

    @property
    def ok(self) -> bool:
        return bool(self.receipt.status)


@dataclass(frozen=True, slots=True)
class ScenarioContext:
    """Everything a scenario script may use. ``implementation`` is what the scenario's component
    runs in this run: the vulnerable source, the reference fix, or a patch under test."""

    scenario: Scenario
    client: ChainClient
    compiler: Compiler
    world: World
    attacker: Actor
    implementation: ImplSpec

    @property
    def protocol(self) -> DemoProtocol:
        return self.world.protocol

    def with_world(self, world: World) -> ScenarioContext:
        return replace(self, world=world)

    def address(self, name: str) -> Address:
        """A component proxy, a protocol token, an extra token or a governance contract by name."""
        if name in self.world.tokens:
            return self.world.tokens[name].address
        return self.protocol.address(name)

    def abi(self, name: str) -> Abi:
        if name in self.world.tokens:
            return self.world.tokens[name].abi
        return self.protocol.abi(name)

    # -- reads -----------------------------------------------------------------------------------

    async def call(self, to: str, abi: Abi, fn: str, *args: Any) -> Any:
        return await ChainOps(self.client).call(to, abi, fn, *args)

    async def read(self, name: str, fn: str, *args: Any) -> Any:
        """``call`` on a named contract of the protocol or the world."""
        return await self.call(self.address(name), self.abi(name), fn, *args)

    # -- compiling -------------------------------------------------------------------------------

    def artifact(self, ref: ContractRef | ImplSpec) -> ContractArtifact:
        spec = ref if isinstance(ref, ImplSpec) else ImplSpec(ref.source, ref.contract)
        return compile_impl(self.compiler, spec)

    # -- transactions ----------------------------------------------------------------------------

    async def send(
        self,
        actor: Actor,
        to: str,
        abi: Abi,
        fn: str,
        *args: Any,
        value: int = 0,
        tip_wei: int | None = None,
        wait: bool = True,
    ) -> TxHash:
        """Sign and send ``to.fn(*args)`` as an ordinary transaction; wait for it unless told not
        to. A transaction that would revert is sent anyway (its receipt shows the failure)."""
        tx = TxRequest(to=Address(to), data=encode_call(abi, fn, *args), value=value)
        return await self.send_raw(actor, tx, tip_wei=tip_wei, wait=wait)

    async def send_raw(
        self, actor: Actor, tx: TxRequest, *, tip_wei: int | None = None, wait: bool = True
    ) -> TxHash:
        return await send_signed(self.client, actor, tx, tip_wei=tip_wei, wait=wait)

    async def transact(self, actor: Actor, to: str, abi: Abi, fn: str, *args: Any, value: int = 0) -> Receipt:
        """A set-up transaction that must succeed (raises with the decoded revert reason)."""
        tx = TxRequest(to=Address(to), data=encode_call(abi, fn, *args), value=value)
        return await self.client.transact(tx, sender=Signer(actor.private_key), abi=abi)

    async def deploy(self, actor: Actor, ref: ContractRef | ImplSpec, *args: Any) -> tuple[Address, TxHash]:
        """Deploy a contract from its source as an ordinary transaction; returns address and hash."""
        art = self.artifact(ref)
        tx = TxRequest(data=_deploy_data(art, args))
        tx_hash = await self.send_raw(actor, tx)
        receipt = await self.client.get_receipt(tx_hash)
        if receipt is None or not receipt.status or receipt.contract_address is None:
            raise ScenarioError(f"{self.scenario.name}: deploying {art.name} failed ({tx_hash})")
        return checksum(receipt.contract_address), tx_hash

    async def deploy_component(self, name: str, impl: ImplSpec, init_args: Sequence[Any]) -> DemoProtocol:
        """Deploy an extra component the way the protocol's own are: implementation plus an
        ERC1967Proxy initialised atomically (admin and upgrader = the timelock, pauser = the
        guardian, as ``init_args`` say), registered with the guardian through Safe + timelock.
        Returns the protocol with the component added."""
        p = self.protocol
        if name in p.components:
            raise ScenarioError(f"{self.scenario.name}: component {name!r} already exists")
        ops = ChainOps(self.client)
        impl_art = self.artifact(impl)
        proxy_art = build_protocol(self.compiler).artifact("ERC1967Proxy")
        impl_address = await ops.deploy(p.deployer, impl_art)
        init = encode_call(impl_art.abi, "initialize", *init_args)
        proxy = await ops.deploy(p.deployer, proxy_art, impl_address, init)
        await govern_via_safe(
            self.client,
            p,
            p.guardian.address,
            encode_call(p.guardian.abi, "setProtected", proxy, True),
            p.safe_owners[: p.safe_threshold],
        )
        comp = Component(name, impl_art.name, proxy, impl_address, tuple(impl_art.abi))
        return replace(p, components={**p.components, name: comp})

    async def deploy_token(self, name: str, ref: ContractRef, *args: Any) -> Deployed:
        """Deploy an extra (non-upgradeable) token, owned by the protocol deployer (the faucet)."""
        art = self.artifact(ref)
        address = await ChainOps(self.client).deploy(self.protocol.deployer, art, *args)
        return Deployed(name, art.name, address, tuple(art.abi))


async def send_signed(
    client: ChainClient, actor: Actor, tx: TxRequest, *, tip_wei: int | None = None, wait: bool = True
) -> TxHash:
    """Sign ``tx`` locally and send it raw, as an attacker's bot does: a transaction that would
    revert is still sent (with :data:`ATTACK_GAS`); wait for its receipt unless told not to."""
    signer = Signer(actor.private_key)
    gas = tx.gas
    if gas is None:
        try:
            gas = int(await client.estimate_gas(tx, sender=signer.address) * 13 // 10) + 30_000
        except CallReverted:
            gas = ATTACK_GAS
    if tip_wei is not None:
        base = (await client.get_block("latest")).base_fee or 0
        tx = replace(tx, max_priority_fee_per_gas=tip_wei, max_fee_per_gas=2 * base + tip_wei)
    tx_hash = await client.send_transaction(replace(tx, gas=gas), sender=signer)
    if wait:
        await client.wait_for_receipt(tx_hash)
    return tx_hash


def _deploy_data(art: ContractArtifact, args: Sequence[Any]) -> bytes:
    return encode_deploy(art.abi, art.bytecode, *args)


def derived_actor(label: str) -> Actor:
    """A deterministic, unfunded key for an off-chain role (e.g. a rewards signer)."""
    key = "0x" + hashlib.sha256(b"bulwark-scenario:" + label.encode()).hexdigest()
    return Actor(name=label, address=checksum(Account.from_key(key).address), private_key=key)


async def receipts(client: ChainClient, hashes: Sequence[TxHash]) -> list[SentTx]:
    out: list[SentTx] = []
    for h in hashes:
        r = await client.get_receipt(h)
        if r is None:
            raise ChainError(f"attack transaction {h} has no receipt")
        out.append(SentTx(h, r))
    return out


class ScenarioScript(Protocol):
    """The shape of a loaded ``attack.py``."""

    attack: Callable[[ScenarioContext], Awaitable[list[TxHash]]]


def script_setup(module: object) -> Callable[[ScenarioContext], Awaitable[World]] | None:
    setup = getattr(module, "setup", None)
    return cast("Callable[[ScenarioContext], Awaitable[World]] | None", setup)


def script_attack(module: object) -> Callable[[ScenarioContext], Awaitable[list[TxHash]]]:
    return cast("Callable[[ScenarioContext], Awaitable[list[TxHash]]]", module.attack)  # type: ignore[attr-defined]
