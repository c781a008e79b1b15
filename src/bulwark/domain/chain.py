"""What the chain tells us, as frozen, typed values (no web3 types cross this boundary)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import NewType

Address = NewType("Address", str)
"""A checksummed 0x-prefixed 20-byte address."""
TxHash = NewType("TxHash", str)
"""A 0x-prefixed 32-byte transaction hash (lower case)."""
Hash32 = NewType("Hash32", str)
"""Any other 0x-prefixed 32-byte hash (block hash, code hash, topic)."""
Selector = NewType("Selector", str)
"""A 0x-prefixed 4-byte function selector (lower case)."""


@dataclass(frozen=True, slots=True)
class Block:
    number: int
    hash: Hash32
    parent_hash: Hash32
    timestamp: int
    base_fee: int | None = None
    tx_hashes: tuple[TxHash, ...] = ()
    transactions: tuple[Transaction, ...] = ()  # filled only when the block was fetched in full
    gas_used: int = 0
    gas_limit: int = 0


@dataclass(frozen=True, slots=True)
class Transaction:
    """A transaction, pending (``block_number is None``) or mined."""

    hash: TxHash
    sender: Address
    to: Address | None
    value: int
    data: bytes
    nonce: int
    gas: int
    max_fee_per_gas: int | None = None
    max_priority_fee_per_gas: int | None = None
    gas_price: int | None = None
    block_number: int | None = None
    transaction_index: int | None = None

    @property
    def selector(self) -> Selector | None:
        return Selector("0x" + self.data[:4].hex()) if len(self.data) >= 4 else None

    @property
    def priority_fee(self) -> int:
        """The tip this transaction offers (legacy transactions bid their whole gas price)."""
        if self.max_priority_fee_per_gas is not None:
            return self.max_priority_fee_per_gas
        return self.gas_price or 0


@dataclass(frozen=True, slots=True)
class Log:
    address: Address
    topics: tuple[Hash32, ...]
    data: bytes
    block_number: int
    block_hash: Hash32
    tx_hash: TxHash
    log_index: int
    removed: bool = False


@dataclass(frozen=True, slots=True)
class Receipt:
    tx_hash: TxHash
    status: bool
    block_number: int
    block_hash: Hash32
    transaction_index: int
    gas_used: int
    effective_gas_price: int
    contract_address: Address | None
    logs: tuple[Log, ...] = ()


@dataclass(frozen=True, slots=True)
class CallFrame:
    """One frame of a ``callTracer`` trace."""

    type: str  # CALL, STATICCALL, DELEGATECALL, CREATE, CREATE2, SELFDESTRUCT
    sender: Address
    to: Address | None
    value: int
    input: bytes
    output: bytes
    gas_used: int
    error: str | None = None
    revert_reason: str | None = None
    calls: tuple[CallFrame, ...] = ()

    @property
    def selector(self) -> Selector | None:
        return Selector("0x" + self.input[:4].hex()) if len(self.input) >= 4 else None

    def walk(self, depth: int = 0) -> Iterator[tuple[int, CallFrame]]:
        """Every frame of the tree, depth first, with its depth (root is 0)."""
        yield depth, self
        for child in self.calls:
            yield from child.walk(depth + 1)


@dataclass(frozen=True, slots=True)
class StorageChange:
    slot: Hash32
    before: Hash32 | None
    after: Hash32 | None


@dataclass(frozen=True, slots=True)
class StateDiff:
    """The effect of one transaction on accounts (``prestateTracer`` in ``diffMode``)."""

    balances: dict[Address, tuple[int, int]] = field(default_factory=dict)
    storage: dict[Address, tuple[StorageChange, ...]] = field(default_factory=dict)
    code_changed: frozenset[Address] = frozenset()
    nonces: dict[Address, tuple[int, int]] = field(default_factory=dict)
