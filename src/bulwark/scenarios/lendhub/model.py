"""Typed handles on a deployed LendHub: where everything lives and who holds which key."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from eth_utils.address import to_checksum_address

from bulwark.chain.abi import encode_call
from bulwark.domain import Address
from bulwark.errors import ScenarioError
from bulwark.scenarios.lendhub.project import FoundryProject
from bulwark.scenarios.protocol import Abi, Actor, Deployed, UpgradeCall, named

E18 = 10**18
COMPONENTS: tuple[str, ...] = ("pool", "vault")


@dataclass(frozen=True, slots=True)
class LendHubComponent:
    """A component behind a TransparentUpgradeableProxy whose ProxyAdmin the timelock owns."""

    name: str
    contract_name: str
    source: Path  # relative to the project root
    proxy: Address
    implementation: Address
    proxy_admin: Address
    abi: Abi = field(repr=False)


@dataclass(frozen=True, slots=True)
class LendHubSeed:
    """Initial state: ETH at 2,000 USD, a lender's million in the pool, three users."""

    eth_price_8: int = 2_000 * 10**8
    collateral_factor_bps: int = 7_500
    liquidation_bonus_bps: int = 500
    borrow_rate_per_second: int = 1_585_489_599  # ~5% a year
    lender_supply: int = 1_000_000 * E18
    vault_buffer_bps: int = 2_000
    vault_cap: int = 10_000_000 * E18
    user_usd: int = 50_000 * E18
    user_eth_collateral: int = 30 * E18
    user_borrow: int = 20_000 * E18  # per borrowing user (the first two); limit is 45,000
    vault_deposits: tuple[int, ...] = (10_000 * E18, 25_000 * E18, 40_000 * E18)


@dataclass(frozen=True, slots=True)
class LendHub:
    """A deployed LendHub. Satisfies :class:`bulwark.scenarios.protocol.SafeGoverned`, so the
    Safe -> timelock helpers of :mod:`bulwark.scenarios.deploy` drive its governance."""

    project: FoundryProject
    chain_id: int
    components: Mapping[str, LendHubComponent]
    tokens: Mapping[str, Deployed]
    price_feed: Deployed
    safe: Deployed
    timelock: Deployed
    timelock_delay: int
    safe_owners: tuple[Actor, ...]
    safe_threshold: int
    guardian: Address  # holds PAUSER_ROLE on every component
    deployer: Actor  # token faucet and feed owner; no power over the components
    lender: Actor
    users: tuple[Actor, ...]
    spare: tuple[Actor, ...]
    proxy_admin_abi: Abi = field(repr=False)
    deploy_seconds: float = 0.0

    def component(self, name: str) -> LendHubComponent:
        return named(self.components, name, "component", "LendHub")

    def upgrade_call(self, component: str, new_impl: str, call_data: bytes) -> UpgradeCall:
        """Transparent: ``ProxyAdmin.upgradeAndCall(proxy, impl, data)``, the admin owned by the timelock."""
        comp = self.component(component)
        data = encode_call(
            self.proxy_admin_abi, "upgradeAndCall", comp.proxy, to_checksum_address(new_impl), call_data
        )
        return UpgradeCall(comp.proxy_admin, data, comp.proxy)

    def address(self, name: str) -> Address:
        """A component proxy, a token, ``feed``, ``safe`` or ``timelock`` by name."""
        if name in self.components:
            return self.components[name].proxy
        return self._deployed(name).address

    def abi(self, name: str) -> Abi:
        if name in self.components:
            return self.components[name].abi
        return self._deployed(name).abi

    def _deployed(self, name: str) -> Deployed:
        fixed = {**self.tokens, "feed": self.price_feed, "safe": self.safe, "timelock": self.timelock}
        if name not in fixed:
            raise ScenarioError(f"nothing named {name!r} in LendHub")
        return fixed[name]

    def abis(self) -> Iterator[Abi]:
        for comp in self.components.values():
            yield comp.abi
        for d in (*self.tokens.values(), self.price_feed, self.timelock, self.safe):
            yield d.abi
        yield self.proxy_admin_abi
