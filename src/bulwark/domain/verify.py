"""What the verification stage hands out: a Verdict with its reasons and an Evidence bundle.

Every object here is a frozen dataclass of plain values so it can cross stage boundaries, be
stored as canonical JSON and be hashed. Imports: standard library only.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

EIP170_LIMIT = 24_576  # bytes of deployed code (EIP-170)


class Check(StrEnum):
    """The family of checks a reason comes from."""

    LAYOUT = "layout"
    SAFETY = "safety"
    ATTACK = "attack"
    POC = "poc"
    REGRESSION = "regression"
    INVARIANT = "invariant"
    COST = "cost"


@dataclass(frozen=True, slots=True)
class Reason:
    """One failed (or noted) check: which family, a stable code, what it is about and why."""

    check: Check
    code: str  # stable identifier, e.g. "storage-inserted", "authorize-upgrade-unrestricted"
    subject: str  # the variable, function, transaction or invariant it names
    message: str  # one line for a human
    fatal: bool = True

    def __str__(self) -> str:
        return f"[{self.check.value}] {self.code}: {self.message}"


# -- storage layout ----------------------------------------------------------------------------


class LayoutChangeKind(StrEnum):
    UNCHANGED = "unchanged"
    APPENDED = "appended"
    GAP_CONSUMED = "gap-consumed"  # a new variable took slots a __gap gave up
    GAP_RESIZED = "gap-resized"  # a __gap shrank by exactly what was appended before it
    INSERTED = "inserted"
    DELETED = "deleted"
    MOVED = "moved"  # an existing variable changed slot/offset (insertion before it, or reordering)
    RETYPED = "retyped"
    RENAMED = "renamed"
    GAP_MISMATCH = "gap-mismatch"
    NAMESPACE_APPENDED = "namespace-appended"
    NAMESPACE_CHANGED = "namespace-changed"
    NAMESPACE_DELETED = "namespace-deleted"


SAFE_LAYOUT_CHANGES = frozenset(
    {
        LayoutChangeKind.UNCHANGED,
        LayoutChangeKind.APPENDED,
        LayoutChangeKind.GAP_CONSUMED,
        LayoutChangeKind.GAP_RESIZED,
        LayoutChangeKind.NAMESPACE_APPENDED,
    }
)


@dataclass(frozen=True, slots=True)
class LayoutChange:
    kind: LayoutChangeKind
    label: str  # variable (or "namespace.member") it is about
    message: str
    old_slot: int | None = None
    new_slot: int | None = None
    old_type: str | None = None
    new_type: str | None = None

    @property
    def ok(self) -> bool:
        return self.kind in SAFE_LAYOUT_CHANGES


@dataclass(frozen=True, slots=True)
class LayoutDiff:
    changes: tuple[LayoutChange, ...]

    @property
    def ok(self) -> bool:
        return all(c.ok for c in self.changes)

    @property
    def errors(self) -> tuple[LayoutChange, ...]:
        return tuple(c for c in self.changes if not c.ok)


# -- replays -----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class TxOutcome:
    """What one transaction did on one fork."""

    tx_hash: str  # the original transaction's hash (the replay's own hash is fork-local)
    status: bool
    gas_used: int
    return_data: str  # 0x-hex
    logs: tuple[tuple[str, tuple[str, ...], str], ...]  # (address, topics, data)
    state: Mapping[str, Mapping[str, tuple[str | None, str | None]]]  # address -> slot -> (before, after)
    balances: Mapping[str, tuple[int, int]] = field(default_factory=dict)  # address -> (before, after)
    error: str = ""


@dataclass(frozen=True, slots=True)
class BalanceChange:
    holder: str
    asset: str  # token address, or "ETH"
    before: int
    after: int

    @property
    def delta(self) -> int:
        return self.after - self.before


@dataclass(frozen=True, slots=True)
class AttackReplay:
    """The observed attack replayed on a fork with the candidate installed.

    ``changes`` holds every (holder, asset) measured before and after the replay; ``net`` sums
    them per asset for the group ``"victims"`` (protected contracts and declared victims: moves
    between them cancel out) and the group ``"attackers"``.
    """

    fork_block: int
    install: str  # "upgradeToAndCall from 0x... (impersonated)" or "anvil_setCode ..."
    txs: tuple[TxOutcome, ...]
    victims: tuple[str, ...]
    attackers: tuple[str, ...]
    assets: tuple[str, ...]
    changes: tuple[BalanceChange, ...]
    net: tuple[BalanceChange, ...]
    invariants: tuple[InvariantResult, ...] = ()  # declared invariants checked after the replay
    poc_passed: bool | None = None  # None: no PoC given; True: the PoC's exploit still succeeded
    poc_detail: str = ""
    # Value of 1e18 units of an asset in a common unit (e.g. USD wei), read before the replay.
    # Priced assets are netted by value (collateral posted for a loan is not a loss); an
    # unpriced asset counts on its own.
    prices: Mapping[str, int] = field(default_factory=dict)

    def _value(self, group: str) -> int:
        return sum(
            c.delta * self.prices[c.asset] // 10**18
            for c in self.net
            if c.holder == group and c.asset in self.prices
        )

    @property
    def victim_value_delta(self) -> int:
        return self._value("victims")

    @property
    def attacker_value_delta(self) -> int:
        return self._value("attackers")

    @property
    def victim_losses(self) -> tuple[BalanceChange, ...]:
        return tuple(
            c for c in self.net if c.holder == "victims" and c.delta < 0 and c.asset not in self.prices
        )

    @property
    def attacker_gains(self) -> tuple[BalanceChange, ...]:
        return tuple(
            c for c in self.net if c.holder == "attackers" and c.delta > 0 and c.asset not in self.prices
        )

    @property
    def blocked(self) -> bool:
        return (
            not self.victim_losses
            and not self.attacker_gains
            and self.victim_value_delta >= 0
            and self.attacker_value_delta <= 0
            and self.poc_passed is not True
            and all(i.holds for i in self.invariants)
        )


@dataclass(frozen=True, slots=True)
class TxDifference:
    tx_hash: str
    aspect: str  # status, return, events, state, balance
    original: str
    patched: str


@dataclass(frozen=True, slots=True)
class RegressionReport:
    fork_block: int
    replayed: int
    differences: tuple[TxDifference, ...]
    original_mismatches: int = 0  # replays on the original fork whose status differs from history

    @property
    def regressed_txs(self) -> tuple[str, ...]:
        seen: dict[str, None] = {}
        for d in self.differences:
            seen.setdefault(d.tx_hash, None)
        return tuple(seen)


# -- invariants and cost -----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ViewCall:
    """A view function call: ``signature`` like ``"totalAssets()(uint256)"`` (outputs in the 2nd group)."""

    address: str
    signature: str
    args: tuple[Any, ...] = ()


@dataclass(frozen=True, slots=True)
class Invariant:
    """``lhs op rhs`` over uint view results (rhs may be a constant); ``scale`` multiplies lhs."""

    name: str
    lhs: ViewCall
    op: str  # one of >=, <=, ==, >, <
    rhs: ViewCall | int
    scale: int = 1


@dataclass(frozen=True, slots=True)
class InvariantResult:
    name: str
    holds: bool
    examples: int
    counterexample: str = ""


@dataclass(frozen=True, slots=True)
class FunctionGas:
    selector: str  # 0x-hex
    name: str
    samples: int
    original_median: int
    patched_median: int

    @property
    def overhead_pct(self) -> float:
        if self.original_median == 0:
            return 0.0
        return round(100.0 * (self.patched_median - self.original_median) / self.original_median, 3)


@dataclass(frozen=True, slots=True)
class CostReport:
    functions: tuple[FunctionGas, ...]
    size_before: int
    size_after: int
    size_limit: int = EIP170_LIMIT

    @property
    def size_delta(self) -> int:
        return self.size_after - self.size_before

    @property
    def within_limit(self) -> bool:
        return self.size_after <= self.size_limit

    @property
    def max_overhead_pct(self) -> float:
        return max((f.overhead_pct for f in self.functions), default=0.0)


# -- verdict -----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Evidence:
    """The bundle signers approve: a JSON document and the sha256 of its canonical JSON."""

    document: Mapping[str, Any]
    hash: str  # "0x" + sha256 hex


@dataclass(frozen=True, slots=True)
class Verdict:
    passed: bool
    reasons: tuple[Reason, ...]
    layout_ok: bool
    safety_ok: bool
    attack_blocked: bool | None  # None: no attack given
    regressions: int  # transactions whose replay differs
    gas_overhead_pct: float
    evidence: Evidence
    notes: tuple[Reason, ...] = ()  # non-fatal observations

    @property
    def evidence_hash(self) -> str:
        return self.evidence.hash

    def summary(self) -> dict[str, Any]:
        """The CLI's ``--json`` shape."""
        return {
            "pass": self.passed,
            "reasons": [str(r) for r in self.reasons],
            "layout_ok": self.layout_ok,
            "attack_blocked": self.attack_blocked,  # null when no attack was given to replay
            "regressions": self.regressions,
            "gas_overhead_pct": self.gas_overhead_pct,
            "evidence_hash": self.evidence.hash,
        }
