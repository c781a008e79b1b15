"""What ``bulwark init`` found on chain: the contracts, their powers, the assets, the governance."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from bulwark.domain import Address
from bulwark.toolchain.project import CompileInput

Abi = tuple[Mapping[str, Any], ...]


@dataclass(frozen=True, slots=True)
class SafeInfo:
    address: Address
    owners: tuple[Address, ...]
    threshold: int


@dataclass(frozen=True, slots=True)
class TimelockInfo:
    address: Address
    min_delay: int
    roles: Mapping[str, tuple[Address, ...]]  # PROPOSER_ROLE/EXECUTOR_ROLE/CANCELLER_ROLE -> holders


@dataclass(frozen=True, slots=True)
class PauseInfo:
    guarded_by: tuple[str, ...]  # role names (or "owner") whose holders can call pause()
    holders: tuple[Address, ...]
    paused: bool
    unguarded: bool  # anyone could call pause()


@dataclass(frozen=True, slots=True)
class FoundContract:
    name: str
    proxy: Address
    implementation: Address
    proxy_kind: str  # transparent, uups, none
    admin: Address | None  # the ERC-1967 admin (a ProxyAdmin) of a Transparent proxy
    upgrade_owner: Address | None  # ProxyAdmin.owner() or the UUPS proxy's owner()
    upgraders: tuple[str, ...]  # UUPS: the roles (or "owner") whose holders may upgrade
    source: tuple[str, str] | None  # (file, contract) that compiles to the implementation
    source_note: str  # why no source was found
    abi: Abi = field(repr=False)
    roles: Mapping[str, tuple[Address, ...]] = field(default_factory=dict)
    pause: PauseInfo | None = None


@dataclass(frozen=True, slots=True)
class FoundAsset:
    name: str
    address: Address | None  # None: native ETH
    decimals: int
    held_by: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Discovery:
    chain_id: int
    rpc_url: str
    project: CompileInput
    contracts: tuple[FoundContract, ...]
    assets: tuple[FoundAsset, ...]
    safe: SafeInfo | None
    timelock: TimelockInfo | None
    guardian: Address | None  # a Bulwark guardian holding the pause role
    guardian_owner: Address | None
    notes: tuple[str, ...] = ()
