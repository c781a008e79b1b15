"""What detectors see: the protected protocol (static, from configuration) and its state at the
last head (refreshed per block), plus one simulated or mined transaction with its effects."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, NamedTuple

from bulwark.detect.evm import ZERO, transfer
from bulwark.domain import Address, CallFrame, Log, Selector, StateDiff, Transaction


@dataclass(frozen=True, slots=True)
class Probe:
    """A view read before and after a pending transaction (``call`` names it; ``data`` is the
    calldata); a relative move beyond ``max_move`` is a finding."""

    call: str
    data: bytes
    max_move: float


@dataclass(frozen=True, slots=True)
class ContractInfo:
    name: str
    address: Address
    kind: str
    abi: tuple[Mapping[str, Any], ...] = ()
    privileged: tuple[str, ...] = ()
    probes: tuple[Probe, ...] = ()
    # From the sources (bulwark.detect.codefacts), when the protocol names them; empty otherwise.
    privileged_slots: frozenset[int] = frozenset()  # plain slots read in access checks
    privileged_maps: frozenset[int] = frozenset()  # mapping bases keyed by account (role maps)
    writers: frozenset[Selector] = frozenset()  # entry points that write either
    balance_maps: frozenset[int] = frozenset()  # mapping(address => uint) bases
    allowance_maps: frozenset[int] = frozenset()  # mapping(address => mapping(address => uint))
    slot_labels: Mapping[int, str] = field(default_factory=dict)

    @property
    def has_layout(self) -> bool:
        return bool(self.privileged_slots or self.privileged_maps or self.balance_maps or self.allowance_maps)


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
    # Derived once (detectors ask for these on every transaction screened).
    _kinds: dict[str, tuple[ContractInfo, ...]] = field(
        default_factory=dict, init=False, repr=False, compare=False
    )
    _lenders: frozenset[Address] = field(default=frozenset(), init=False, repr=False, compare=False)
    _holders: frozenset[Address] = field(default=frozenset(), init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        kinds: dict[str, list[ContractInfo]] = {}
        for c in self.contracts.values():
            kinds.setdefault(c.kind, []).append(c)
        object.__setattr__(self, "_kinds", {k: tuple(v) for k, v in kinds.items()})
        lenders = self.flash_lenders | {c.address for c in kinds.get("flash-lender", ())}
        object.__setattr__(self, "_lenders", frozenset(lenders))
        object.__setattr__(self, "_holders", frozenset(a for holders in self.roles.values() for a in holders))

    def by_kind(self, kind: str) -> tuple[ContractInfo, ...]:
        return self._kinds.get(kind, ())

    def by_name(self, name: str) -> ContractInfo | None:
        return next((c for c in self.contracts.values() if c.name == name), None)

    def is_protected(self, address: Address | None) -> bool:
        return address is not None and address in self.contracts

    @property
    def all_flash_lenders(self) -> frozenset[Address]:
        return self._lenders

    @property
    def role_holders(self) -> frozenset[Address]:
        return self._holders


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
    timestamp: int = 0  # of that head (a pending transaction is simulated in the block after it)
    holdings: Mapping[tuple[Address | None, Address], int] = field(default_factory=dict)  # (token, holder)
    vaults: Mapping[Address, VaultState] = field(default_factory=dict)
    pools: Mapping[Address, PoolState] = field(default_factory=dict)
    oracle_prices: Mapping[tuple[Address, Address], int] = field(default_factory=dict)  # (oracle, asset)
    # EIP-1967 implementation behind each protected proxy (only those that have one)
    implementations: Mapping[Address, Address] = field(default_factory=dict)
    # Each configured probe's value (contract, probe call) at that head; unreadable ones left out.
    probes: Mapping[tuple[Address, str], int] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class ChainView:
    """The protocol and its state: everything a detector may read besides the event."""

    protocol: ProtocolModel
    state: ProtocolState = field(default_factory=ProtocolState)


class Step(NamedTuple):
    """One moment of execution, in order: a call entering a frame, or a log being emitted.

    ``context`` is the address whose storage the frame runs against (the caller's for a
    DELEGATECALL), which is what "the contract" means for proxies. A named tuple, not a frozen
    dataclass: every trace builds one per call and per log, and a frozen dataclass took four times
    as long to construct (screening's parse was a fifth of its CPU).
    """

    kind: Literal["call", "log"]
    depth: int
    context: Address | None
    frame: CallFrame | None = None
    log: Log | None = None
    reverted: bool = False


# (step index, token, from, to, amount) of one surviving ERC-20 Transfer log
Transfer = tuple[int, Address, Address, Address, int]


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
    # Probe values right after the transaction, in its simulation (contract, probe call) -> value.
    probes_after: Mapping[tuple[Address, str], int] = field(default_factory=dict)
    # Pre-transaction values of every storage slot the transaction read or wrote (prestateTracer
    # without diffMode), fetched only when the diff lowers a value in a protected contract.
    reads: Mapping[Address, Mapping[int, int]] | None = None
    # Derived once per event and shared by the screener and every detector (each of them walked
    # the steps again: that walk, repeated per detector, was a large part of screening's CPU).
    _flows: dict[tuple[Address, Address], int] | None = field(
        default=None, init=False, repr=False, compare=False
    )
    _logs: tuple[Log, ...] | None = field(default=None, init=False, repr=False, compare=False)
    _calls: tuple[Step, ...] | None = field(default=None, init=False, repr=False, compare=False)
    _transfers: tuple[Transfer, ...] | None = field(default=None, init=False, repr=False, compare=False)

    def flows(self) -> dict[tuple[Address, Address], int]:
        """Net token flows of the surviving Transfer logs (computed once, shared by detectors)."""
        if self._flows is None:
            out: dict[tuple[Address, Address], int] = {}
            get = out.get
            for _, token, src, dst, amount in self.transfers():
                key = (token, src)
                out[key] = get(key, 0) - amount
                key = (token, dst)
                out[key] = get(key, 0) + amount
            object.__setattr__(self, "_flows", out)
        assert self._flows is not None
        return self._flows

    def transfers(self) -> tuple[Transfer, ...]:
        """(step index, token, from, to, amount) of every surviving ERC-20 Transfer log, in order."""
        if self._transfers is None:
            self._derive()
        assert self._transfers is not None
        return self._transfers

    def _derive(self) -> None:
        """The calls, the surviving logs and their Transfers, in one pass over the steps (screening
        asks for all three of every traced transaction; three passes cost a fifth more)."""
        calls: list[Step] = []
        logs: list[Log] = []
        transfers: list[Transfer] = []
        for at, step in enumerate(self.steps):
            lg = step.log
            if step.kind == "call":
                calls.append(step)
            if lg is not None and not step.reverted:
                logs.append(lg)
                t = transfer(lg)
                if t is not None:
                    transfers.append((at, *t))
        object.__setattr__(self, "_calls", tuple(calls))
        object.__setattr__(self, "_logs", tuple(logs))
        object.__setattr__(self, "_transfers", tuple(transfers))

    @property
    def success(self) -> bool:
        return self.trace is None or self.trace.error is None

    @property
    def logs(self) -> tuple[Log, ...]:
        """Logs that survive (not inside a reverted frame), in emission order."""
        if self._logs is None:
            self._derive()
        assert self._logs is not None
        return self._logs

    def calls(self) -> tuple[Step, ...]:
        if self._calls is None:
            self._derive()
        assert self._calls is not None
        return self._calls

    def may_lend(self) -> bool:
        """Could the transaction hold a flash loan? Some account sends value and later receives
        the same asset back: a Transfer of a token out of it (not a mint) then one into it, or a
        call carrying the native coin from it then one to it. Every loan
        :func:`bulwark.detect.trace.flash_loans` finds has that shape (it is a necessary condition,
        checked in one pass over what is already derived), and most transactions lack it: a swap
        sends one token and gets another back."""
        sent: set[tuple[Address, Address]] = set()
        for _, token, src, dst, amount in self.transfers():
            if amount > 0:
                if (token, dst) in sent:
                    return True
                if src not in (dst, ZERO):
                    sent.add((token, src))
        senders: set[Address] = set()
        for step in self.calls():
            f = step.frame
            if f is None or step.reverted or not f.value or f.to is None or f.type not in _VALUE_CALLS:
                continue
            if f.to in senders:
                return True
            if f.to != f.sender:
                senders.add(f.sender)
        return False


_VALUE_CALLS = frozenset({"CALL", "CALLCODE"})  # the frames through which the native coin moves
