"""What detectors see: the protected protocol (static, from configuration) and its state at the
last head (refreshed per block), plus one simulated or mined transaction with its effects."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from bulwark.domain import Address, CallFrame, Log, StateDiff, Transaction


@dataclass(frozen=True, slots=True)
class ContractInfo:
    name: str
    address: Address
    kind: str
    abi: tuple[Mapping[str, Any], ...] = ()
    privileged: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class AssetInfo:
    name: str
    address: Address | None  # None: the native coin
    decimals: int
    holders: tuple[Address, ...]


@dataclass(frozen=True, slots=True)
class ProtocolModel:
    """A protected protocol as configured; addresses are checksummed."""

    name: str
    contracts: Mapping[Address, ContractInfo]
    assets: tuple[AssetInfo, ...] = ()
    roles: Mapping[str, frozenset[Address]] = field(default_factory=dict)
    flash_lenders: frozenset[Address] = frozenset()

    def by_kind(self, kind: str) -> tuple[ContractInfo, ...]:
        return tuple(c for c in self.contracts.values() if c.kind == kind)

    def by_name(self, name: str) -> ContractInfo | None:
        return next((c for c in self.contracts.values() if c.name == name), None)

    def is_protected(self, address: Address | None) -> bool:
        return address is not None and address in self.contracts

    @property
    def all_flash_lenders(self) -> frozenset[Address]:
        return self.flash_lenders | {c.address for c in self.by_kind("flash-lender")}

    @property
    def role_holders(self) -> frozenset[Address]:
        out: set[Address] = set()
        for holders in self.roles.values():
            out |= holders
        return frozenset(out)


@dataclass(frozen=True, slots=True)
class VaultState:
    asset: Address
    total_assets: int
    total_supply: int


@dataclass(frozen=True, slots=True)
class PoolState:
    token0: Address
    token1: Address
    reserve0: int
    reserve1: int


@dataclass(frozen=True, slots=True)
class ProtocolState:
    """Values read at ``block_number`` that detectors compare a transaction's effects against."""

    block_number: int = 0
    holdings: Mapping[tuple[Address | None, Address], int] = field(default_factory=dict)  # (token, holder)
    vaults: Mapping[Address, VaultState] = field(default_factory=dict)
    pools: Mapping[Address, PoolState] = field(default_factory=dict)
    oracle_prices: Mapping[tuple[Address, Address], int] = field(default_factory=dict)  # (oracle, asset)


@dataclass(frozen=True, slots=True)
class ChainView:
    """The protocol and its state: everything a detector may read besides the event."""

    protocol: ProtocolModel
    state: ProtocolState = field(default_factory=ProtocolState)


@dataclass(frozen=True, slots=True)
class Step:
    """One moment of execution, in order: a call entering a frame, or a log being emitted.

    ``context`` is the address whose storage the frame runs against (the caller's for a
    DELEGATECALL), which is what "the contract" means for proxies.
    """

    kind: Literal["call", "log"]
    depth: int
    context: Address | None
    frame: CallFrame | None = None
    log: Log | None = None
    reverted: bool = False


@dataclass(frozen=True, slots=True)
class TxEvent:
    """A transaction with what it does: simulated against the pending state, or mined."""

    tx: Transaction
    pending: bool
    trace: CallFrame | None = None
    diff: StateDiff | None = None
    steps: tuple[Step, ...] = ()
    block_number: int | None = None
    block_hash: str | None = None

    @property
    def success(self) -> bool:
        return self.trace is None or self.trace.error is None

    @property
    def logs(self) -> Iterator[Log]:
        """Logs that survive (not inside a reverted frame), in emission order."""
        for step in self.steps:
            if step.kind == "log" and step.log is not None and not step.reverted:
                yield step.log

    def calls(self) -> Iterator[Step]:
        for step in self.steps:
            if step.kind == "call":
                yield step
