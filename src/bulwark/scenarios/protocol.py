"""Typed handles on a deployed demo protocol: who holds which key, where everything lives."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol, TypeVar

from eth_utils.address import to_checksum_address

from bulwark.chain.abi import encode_call
from bulwark.domain import Address
from bulwark.errors import ScenarioError

Abi = Sequence[Mapping[str, Any]]

COMPONENTS: tuple[str, ...] = ("oracle", "pool", "lending", "vault", "flash")
"""Proxy names of the upgradeable components, in deployment order."""
TOKENS: tuple[str, ...] = ("usd", "weth")


V = TypeVar("V")


def named(items: Mapping[str, V], name: str, what: str, where: str) -> V:
    """``items[name]``, or a ScenarioError naming what there is."""
    try:
        return items[name]
    except KeyError:
        raise ScenarioError(f"no {what} {name!r} in {where} (have: {', '.join(items)})") from None


@dataclass(frozen=True, slots=True)
class ImplSpec:
    """Which contract to deploy as a component's implementation (e.g. a vulnerable variant).

    ``source_path`` is relative to the project root (or absolute); the contract must keep the
    component's initializer and public functions (docs/demo-protocol.md).
    """

    source_path: Path
    contract_name: str


@dataclass(frozen=True, slots=True)
class Actor:
    """A demo key holder; the key never shows in ``repr``."""

    name: str
    address: Address
    private_key: str = field(repr=False)


@dataclass(frozen=True, slots=True)
class Component:
    """An upgradeable component: the ERC1967 proxy users talk to and its implementation."""

    name: str
    contract_name: str
    proxy: Address
    implementation: Address
    abi: Abi = field(repr=False)


@dataclass(frozen=True, slots=True)
class Deployed:
    """A non-upgradeable contract: a token, the Safe, the timelock, the guardian."""

    name: str
    contract_name: str
    address: Address
    abi: Abi = field(repr=False)


class SafeGoverned(Protocol):
    """What the Safe -> timelock helpers of :mod:`bulwark.scenarios.deploy` need of a deployment:
    the demo protocol, or another reference protocol governed the same way."""

    @property
    def chain_id(self) -> int: ...
    @property
    def safe(self) -> Deployed: ...
    @property
    def timelock(self) -> Deployed: ...
    @property
    def timelock_delay(self) -> int: ...
    @property
    def safe_owners(self) -> tuple[Actor, ...]: ...
    def abis(self) -> Iterator[Abi]:
        """Every ABI of the deployment (to decode a revert bubbling up through the Safe)."""
        ...

    def upgrade_call(self, component: str, new_impl: str, call_data: bytes) -> UpgradeCall:
        """The call that points ``component``'s proxy at ``new_impl`` (its upgrade pattern)."""
        ...


@dataclass(frozen=True, slots=True)
class UpgradeCall:
    """``target.call(data)`` upgrades ``proxy``: the proxy itself (UUPS) or its ProxyAdmin."""

    target: Address
    data: bytes
    proxy: Address


@dataclass(frozen=True, slots=True)
class DemoProtocol:
    """Everything a scenario needs to drive the deployed demo protocol."""

    chain_id: int
    components: Mapping[str, Component]
    tokens: Mapping[str, Deployed]
    safe: Deployed
    timelock: Deployed
    guardian: Deployed
    timelock_delay: int
    deployer: Actor  # also the token faucet (DemoToken owner)
    safe_owners: tuple[Actor, ...]
    safe_threshold: int
    sentinel: Actor
    feeder: Actor
    users: tuple[Actor, ...]
    spare: tuple[Actor, ...]  # funded dev accounts nobody uses: attackers, extra keepers
    deploy_seconds: float = 0.0

    def component(self, name: str) -> Component:
        return named(self.components, name, "component", "the demo protocol")

    def upgrade_call(self, component: str, new_impl: str, call_data: bytes) -> UpgradeCall:
        """UUPS: the proxy's own ``upgradeToAndCall``."""
        comp = self.component(component)
        data = encode_call(comp.abi, "upgradeToAndCall", to_checksum_address(new_impl), call_data)
        return UpgradeCall(comp.proxy, data, comp.proxy)

    def token(self, name: str) -> Deployed:
        return named(self.tokens, name, "token", "the demo protocol")

    def address(self, name: str) -> Address:
        """Address of a component proxy, token, or ``safe``/``timelock``/``guardian`` by name."""
        if name in self.components:
            return self.components[name].proxy
        if name in self.tokens:
            return self.tokens[name].address
        fixed = {"safe": self.safe, "timelock": self.timelock, "guardian": self.guardian}
        if name in fixed:
            return fixed[name].address
        raise ScenarioError(f"nothing named {name!r} in the demo protocol")

    def abi(self, name: str) -> Abi:
        if name in self.components:
            return self.components[name].abi
        if name in self.tokens:
            return self.tokens[name].abi
        fixed = {"safe": self.safe, "timelock": self.timelock, "guardian": self.guardian}
        if name in fixed:
            return fixed[name].abi
        raise ScenarioError(f"nothing named {name!r} in the demo protocol")

    def name_of(self, address: str) -> str | None:
        """Reverse lookup of a proxy/token/governance address (case-insensitive)."""
        wanted = address.lower()
        for name in (*self.components, *self.tokens, "safe", "timelock", "guardian"):
            if self.address(name).lower() == wanted:
                return name
        return None

    @property
    def actors(self) -> tuple[Actor, ...]:
        return (self.deployer, *self.safe_owners, self.sentinel, self.feeder, *self.users, *self.spare)

    def abis(self) -> Iterator[Abi]:
        for comp in self.components.values():
            yield comp.abi
        for d in (*self.tokens.values(), self.timelock, self.guardian, self.safe):
            yield d.abi
