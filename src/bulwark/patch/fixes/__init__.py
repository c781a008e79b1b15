"""Built-in fix templates (explicit registration) plus the ``bulwark.fixes`` entry-point group."""

from __future__ import annotations

from importlib.metadata import entry_points

from bulwark.patch.fixes.access_control import AccessControlFix
from bulwark.patch.fixes.arithmetic import CheckedMathFix, RemoveUncheckedFix, WidenCounterFix
from bulwark.patch.fixes.array_length import ArrayLengthGuardFix
from bulwark.patch.fixes.base import Candidate, FixTemplate
from bulwark.patch.fixes.bounded_move import BoundedMoveFix
from bulwark.patch.fixes.dos import BoundedGrowthFix, PullPaymentFix, SkipBadEntryFix
from bulwark.patch.fixes.erc4626 import VirtualOffsetFix
from bulwark.patch.fixes.frontrun import CommitRevealFix, DelayedRateFix, DeployerOnlySetupFix
from bulwark.patch.fixes.logic import MissingCheckFix
from bulwark.patch.fixes.logic_siblings import SiblingCheckFix
from bulwark.patch.fixes.oracle import TwapFix
from bulwark.patch.fixes.oracle_reserves import TwapReservesFix
from bulwark.patch.fixes.oracle_steady import SteadyBalanceFix
from bulwark.patch.fixes.randomness import BlockhashInReachFix, EoaOnlyRandomnessFix
from bulwark.patch.fixes.reentrancy import ReentrancyLockFix
from bulwark.patch.fixes.signature_replay import DomainBindFix, UsedDigestFix
from bulwark.patch.fixes.strict_balance import BalanceAtLeastFix
from bulwark.patch.fixes.timestamp import BlockFloorFix, BoundedClockFix
from bulwark.patch.fixes.tx_origin import TxOriginFix
from bulwark.patch.fixes.unchecked_call import UncheckedCallFix

BUILTIN: tuple[type[FixTemplate], ...] = (
    AccessControlFix,
    ReentrancyLockFix,
    UncheckedCallFix,
    TxOriginFix,
    RemoveUncheckedFix,
    WidenCounterFix,
    CheckedMathFix,
    ArrayLengthGuardFix,
    UsedDigestFix,
    DomainBindFix,
    TwapFix,
    TwapReservesFix,
    SteadyBalanceFix,
    VirtualOffsetFix,
    PullPaymentFix,
    BalanceAtLeastFix,
    BoundedGrowthFix,
    SkipBadEntryFix,
    DeployerOnlySetupFix,
    CommitRevealFix,
    DelayedRateFix,
    BoundedMoveFix,
    BlockFloorFix,
    BoundedClockFix,
    EoaOnlyRandomnessFix,
    BlockhashInReachFix,
    MissingCheckFix,
    SiblingCheckFix,
)


def templates() -> tuple[FixTemplate, ...]:
    """The built-ins, then plugins registered under the ``bulwark.fixes`` entry-point group."""
    found: list[type[FixTemplate]] = list(BUILTIN)
    for ep in entry_points(group="bulwark.fixes"):
        cls = ep.load()
        if not (isinstance(cls, type) and issubclass(cls, FixTemplate)):
            raise TypeError(f"entry point {ep.name} in bulwark.fixes is not a FixTemplate subclass")
        found.append(cls)
    return tuple(cls() for cls in found)


__all__ = ["BUILTIN", "Candidate", "FixTemplate", "templates"]
