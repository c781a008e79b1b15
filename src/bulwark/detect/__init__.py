"""Detection: the detector contract, the built-ins, the registry, alert hygiene and screening."""

from bulwark.detect.base import DetectError, Detector, InvalidDetector, Params
from bulwark.detect.hygiene import AlertGate
from bulwark.detect.model import (
    AssetInfo,
    ChainView,
    ContractInfo,
    PoolState,
    ProtocolModel,
    ProtocolState,
    Step,
    TxEvent,
    VaultState,
)
from bulwark.detect.registry import BUILTINS, ENTRY_POINT_GROUP, available_detectors

__all__ = [
    "BUILTINS",
    "ENTRY_POINT_GROUP",
    "AlertGate",
    "AssetInfo",
    "ChainView",
    "ContractInfo",
    "DetectError",
    "Detector",
    "InvalidDetector",
    "Params",
    "PoolState",
    "ProtocolModel",
    "ProtocolState",
    "Step",
    "TxEvent",
    "VaultState",
    "available_detectors",
]
