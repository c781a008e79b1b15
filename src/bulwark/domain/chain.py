"""What the chain tells us, as frozen, typed values (no web3 types cross this boundary)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import MISSING, dataclass, field, fields
from typing import Any, NewType, TypeVar

Address = NewType("Address", str)
"""A checksummed 0x-prefixed 20-byte address."""
TxHash = NewType("TxHash", str)
"""A 0x-prefixed 32-byte transaction hash (lower case)."""
Hash32 = NewType("Hash32", str)
"""Any other 0x-prefixed 32-byte hash (block hash, code hash, topic)."""
Selector = NewType("Selector", str)
"""A 0x-prefixed 4-byte function selector (lower case)."""


_T = TypeVar("_T")


def _quick_init(cls: type[_T]) -> type[_T]:
    """Give a frozen, slotted dataclass an ``__init__`` (same parameters, same defaults) that stores
    each field through its slot directly: the generated one calls ``object.__setattr__`` per field,
    twice as slow, and screening builds a CallFrame per call and a Log per event of every pending
    transaction (a tenth of the trace parse)."""
    names = [f.name for f in fields(cls)]  # type: ignore[arg-type]
    defaults = {f.name: f.default for f in fields(cls) if f.default is not MISSING}  # type: ignore[arg-type]
    assert all(f.default_factory is MISSING and f.init for f in fields(cls)), cls  # type: ignore[arg-type]
    params = ", ".join(f"{n}=_d_{n}" if n in defaults else n for n in names)
    body = "".join(f"\n    _s_{n}(self, {n})" for n in names)
    scope: dict[str, Any] = {f"_s_{n}": cls.__dict__[n].__set__ for n in names}
    scope.update({f"_d_{n}": v for n, v in defaults.items()})
    exec(f"def __init__(self, {params}):{body}", scope)  # noqa: S102 - as dataclasses builds its own
    scope["__init__"].__qualname__ = f"{cls.__qualname__}.__init__"
    setattr(cls, "__init__", scope["__init__"])  # noqa: B010 - mypy refuses assigning a method
    return cls


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


@_quick_init
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


@_quick_init
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
