"""Domain objects shared by every stage. Imports: standard library only."""

from bulwark.domain.chain import (
    Address,
    Block,
    CallFrame,
    Hash32,
    Log,
    Receipt,
    Selector,
    StateDiff,
    StorageChange,
    Transaction,
    TxHash,
)

__all__ = [
    "Address",
    "Block",
    "CallFrame",
    "Hash32",
    "Log",
    "Receipt",
    "Selector",
    "StateDiff",
    "StorageChange",
    "Transaction",
    "TxHash",
]
