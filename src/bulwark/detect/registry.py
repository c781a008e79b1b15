"""Explicit registration: the built-ins by name, plus plugins from the ``bulwark.detectors``
entry-point group. Nothing is discovered by scanning modules."""

from __future__ import annotations

from importlib.metadata import entry_points

from bulwark.detect.base import Detector, InvalidDetector
from bulwark.detect.builtins.balance_debit import ForeignBalanceDebit
from bulwark.detect.builtins.early_warning import EarlyWarning
from bulwark.detect.builtins.flashloan import FlashLoanPriceManipulation
from bulwark.detect.builtins.indicators import IndicatorMatch
from bulwark.detect.builtins.intel_fingerprint import ExploitFingerprint
from bulwark.detect.builtins.invariant import InvariantBreak
from bulwark.detect.builtins.mint_pricing import MispricedMint
from bulwark.detect.builtins.privileged import UnauthorisedPrivilegedCall
from bulwark.detect.builtins.privileged_state import PrivilegedStateWrite
from bulwark.detect.builtins.probes import ProbeMove
from bulwark.detect.builtins.reentrancy import Reentrancy
from bulwark.detect.builtins.rules import DeclarativeRules
from bulwark.detect.builtins.share_inflation import ShareInflation
from bulwark.detect.builtins.signature_replay import SignatureReplay
from bulwark.detect.builtins.unchecked_return import UncheckedReturn

BUILTINS: tuple[type[Detector], ...] = (
    InvariantBreak,
    Reentrancy,
    UnauthorisedPrivilegedCall,
    PrivilegedStateWrite,
    ForeignBalanceDebit,
    FlashLoanPriceManipulation,
    EarlyWarning,
    IndicatorMatch,
    ExploitFingerprint,
    UncheckedReturn,
    SignatureReplay,
    ShareInflation,
    MispricedMint,
    ProbeMove,
    DeclarativeRules,
)

ENTRY_POINT_GROUP = "bulwark.detectors"


def available_detectors(*, plugins: bool = True) -> dict[str, type[Detector]]:
    """Every detector class by ``ARGUMENT``; a plugin that clashes or is not a Detector fails loudly."""
    out: dict[str, type[Detector]] = {d.ARGUMENT: d for d in BUILTINS}
    if not plugins:
        return out
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        cls = ep.load()
        if not (isinstance(cls, type) and issubclass(cls, Detector)):
            raise InvalidDetector(f"entry point {ep.name} ({ep.value}) is not a bulwark Detector subclass")
        if cls.ARGUMENT in out and out[cls.ARGUMENT] is not cls:
            raise InvalidDetector(f"detector name {cls.ARGUMENT!r} from {ep.value} is already taken")
        out[cls.ARGUMENT] = cls
    return out
