"""Domain objects shared by every stage. Imports: the standard library and the error root
(:mod:`bulwark.errors`) only."""

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
from bulwark.domain.finding import finding_from_json, finding_to_json
from bulwark.domain.incident import (
    Action,
    Confidence,
    Finding,
    IncidentState,
    Severity,
    VulnClass,
)

__all__ = [
    "Action",
    "Address",
    "Block",
    "CallFrame",
    "Confidence",
    "Finding",
    "Hash32",
    "IncidentState",
    "Log",
    "Receipt",
    "Selector",
    "Severity",
    "StateDiff",
    "StorageChange",
    "Transaction",
    "TxHash",
    "VulnClass",
    "finding_from_json",
    "finding_to_json",
]
