"""Remedies by state: administrative setters, parameter changes, and the impact of any remedy.

A :class:`Setter` is an administrative function of a protected contract (guarded by a role or
owner check, writing configuration state); the catalogue lists them with the finding classes each
can neutralise. A :class:`ParameterRemedy` is a small set of :class:`ParamCall` made by the
protocol's admin (the timelock). An :class:`ImpactReport` compares the original and the remedied
protocol, for a parameter remedy or a code patch alike. Imports: standard library only.
"""

from __future__ import annotations

import enum
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bulwark.domain.chain import Address
from bulwark.domain.verify import Invariant


class RemedyKind(enum.StrEnum):
    CODE = "code"
    PARAMETERS = "parameters"


@dataclass(frozen=True, slots=True)
class SetterParam:
    name: str
    type: str  # ABI type, e.g. "uint256", "address"
    stored_in: str | None = None  # the public state variable (getter) the value ends up in


@dataclass(frozen=True, slots=True)
class Setter:
    """One administrative function of a component, as found in its source."""

    component: str
    contract: str
    function: str  # name
    signature: str  # "setRiskParams(uint256,uint256,uint256,uint256)"
    params: tuple[SetterParam, ...]
    guard: str  # "role:DEFAULT_ADMIN_ROLE", "owner", "sender-check"
    writes: tuple[str, ...]  # state variables it assigns (directly or through internal calls)
    classes: tuple[str, ...] = ()  # finding classes (VulnClass values) it can neutralise
    confirmed: bool = False  # True when declared/confirmed in bulwark.yaml, False when inferred

    @property
    def key(self) -> str:
        return f"{self.component}.{self.function}"


@dataclass(frozen=True, slots=True)
class ParamCall:
    """One setter call made by the admin: ``component.function(args)``."""

    component: str
    target: str  # the component's proxy address
    signature: str
    args: tuple[Any, ...]  # ABI values (ints, 0x-addresses, bools)
    data: str  # 0x-hex calldata
    changes: tuple[tuple[str, str, str], ...] = ()  # (parameter, before, after) for humans

    @property
    def label(self) -> str:
        name = self.signature.split("(", 1)[0]
        return f"{name}({', '.join(str(a) for a in self.args)})"


@dataclass(frozen=True, slots=True)
class ParameterRemedy:
    """A candidate remedy: the calls, in order, and why it was proposed."""

    calls: tuple[ParamCall, ...]
    rationale: str
    strategy: str  # e.g. "zero:ltv", "halve:ltv", "max:fee", "revert-source"

    @property
    def size(self) -> tuple[int, int]:
        """Order of preference: fewer calls, then fewer parameters changed."""
        return (len(self.calls), sum(max(1, len(c.changes)) for c in self.calls))

    @property
    def label(self) -> str:
        return "; ".join(f"{c.component}.{c.label}" for c in self.calls)


# -- impact ------------------------------------------------------------------------------------


class MetricKind(enum.StrEnum):
    PRICE = "price"
    LIQUIDITY = "liquidity"
    UTILISATION = "utilisation"
    HEALTH = "health"
    BALANCE = "balance"


@dataclass(frozen=True, slots=True)
class MetricDelta:
    """One observed quantity on the original and on the remedied protocol."""

    kind: MetricKind
    label: str  # "oracle.price(weth)", "lending.availableLiquidity", "user 0xab.. usd"
    phase: str  # "history" (after the replayed benign history) or "forward" (after the simulation)
    original: int | None  # None: the read failed on that fork
    remedied: int | None

    @property
    def change_pct(self) -> float | None:
        if self.original is None or self.remedied is None:
            return None
        if self.original == 0:
            return 0.0 if self.remedied == 0 else 100.0
        return round(100.0 * (self.remedied - self.original) / abs(self.original), 4)


@dataclass(frozen=True, slots=True)
class BlockedCall:
    """A benign transaction that worked on the original protocol and fails under the remedy."""

    tx: str  # original tx hash, or "forward:<n>" for a simulated one
    sender: str
    function: str  # "lending.borrow" or a selector
    phase: str  # "history" or "forward"


@dataclass(frozen=True, slots=True)
class ImpactReport:
    remedy: RemedyKind
    label: str
    replayed: int  # benign transactions of the history replayed on both forks
    simulated: int  # benign transactions simulated forward on both forks
    blocked: tuple[BlockedCall, ...]
    metrics: tuple[MetricDelta, ...]
    notes: tuple[str, ...] = ()

    @property
    def benign_failed(self) -> int:
        return len(self.blocked)

    @property
    def blocked_users(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(b.sender for b in self.blocked))

    @property
    def blocked_functions(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(b.function for b in self.blocked))

    def largest(self, *kinds: MetricKind) -> MetricDelta | None:
        """The metric of ``kinds`` whose relative change is largest (None when there is none)."""
        found = [m for m in self.metrics if m.kind in kinds and m.change_pct is not None]
        return max(found, key=lambda m: abs(m.change_pct or 0.0), default=None)

    def to_json(self) -> dict[str, Any]:
        price = self.largest(MetricKind.PRICE)
        liquidity = self.largest(MetricKind.LIQUIDITY)
        return {
            "remedy": self.remedy.value,
            "label": self.label,
            "replayed": self.replayed,
            "simulated": self.simulated,
            "benign_failed": self.benign_failed,
            "blocked_users": list(self.blocked_users),
            "blocked_functions": list(self.blocked_functions),
            "blocked": [
                {"tx": b.tx, "sender": b.sender, "function": b.function, "phase": b.phase}
                for b in self.blocked
            ],
            "largest_price_change": _metric_json(price),
            "largest_liquidity_change": _metric_json(liquidity),
            "metrics": [_metric_json(m) for m in self.metrics],
            "notes": list(self.notes),
        }

    def summary_text(self) -> str:
        """A few lines for a proposal's description: what signers pay for this remedy."""
        price = self.largest(MetricKind.PRICE)
        liquidity = self.largest(MetricKind.LIQUIDITY)
        lines = [
            f"impact of {self.remedy.value} remedy [{self.label}]: "
            f"{self.benign_failed} of {self.replayed + self.simulated} benign txs would have failed"
            f" ({self.replayed} replayed, {self.simulated} simulated)",
            "blocked functions: " + (", ".join(self.blocked_functions) or "none"),
            "blocked users: " + (", ".join(self.blocked_users) or "none"),
            "largest price change: " + _metric_text(price),
            "largest liquidity change: " + _metric_text(liquidity),
        ]
        return "\n".join(lines)


def _metric_json(m: MetricDelta | None) -> dict[str, Any] | None:
    if m is None:
        return None
    return {
        "kind": m.kind.value,
        "label": m.label,
        "phase": m.phase,
        "original": str(m.original) if m.original is not None else None,
        "remedied": str(m.remedied) if m.remedied is not None else None,
        "change_pct": m.change_pct,
    }


def _metric_text(m: MetricDelta | None) -> str:
    if m is None:
        return "none measured"
    return f"{m.label} ({m.phase}) {m.original} -> {m.remedied} ({m.change_pct:+}%)"


@dataclass(frozen=True, slots=True)
class RemedyAttempt:
    """One candidate tried by the search: did it stop the attack, and why not."""

    remedy: ParameterRemedy
    blocked: bool
    reasons: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class RemedyResult:
    """What the remedy search hands out: the chosen remedy (if any), its verification and impact."""

    chosen: ParameterRemedy | None
    attempts: tuple[RemedyAttempt, ...]
    passed: bool
    reasons: tuple[str, ...]
    evidence_hash: str | None
    evidence: Mapping[str, Any] = field(default_factory=dict)
    impact: ImpactReport | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "remedy": RemedyKind.PARAMETERS.value if self.chosen is not None else None,
            "calls": [
                {"component": c.component, "target": c.target, "call": c.label, "data": c.data}
                for c in (self.chosen.calls if self.chosen else ())
            ],
            "strategy": self.chosen.strategy if self.chosen else None,
            "passed": self.passed,
            "reasons": list(self.reasons),
            "evidence_hash": self.evidence_hash,
            "attempts": [
                {"remedy": a.remedy.label, "blocked": a.blocked, "reasons": list(a.reasons)}
                for a in self.attempts
            ],
            "impact": self.impact.to_json() if self.impact is not None else None,
        }


# ----------------------------------------------------------------------------- a search's input


@dataclass(frozen=True, slots=True)
class TxRun:
    """One benign transaction as run on one fork."""

    tx: str
    sender: str
    function: str
    ok: bool


# Runs a short benign simulation on the fork at the given URL; returns what each transaction did.
Forward = Callable[[str], Awaitable[list[TxRun]]]


@dataclass(frozen=True, slots=True)
class ComponentSource:
    """A protected component: its proxy and the source of its live implementation."""

    proxy: Address
    source: Path
    contract: str


@dataclass(frozen=True, slots=True)
class Probe:
    """A metric read with ``eth_call``: ``fn(args)`` on ``to`` (output ``index`` of the result);
    with ``per`` set, the value is ``value * 10_000 / per-value`` (basis points, e.g. utilisation)."""

    kind: MetricKind
    label: str
    to: Address
    fn: str
    inputs: tuple[str, ...] = ()
    args: tuple[Any, ...] = ()
    outputs: tuple[str, ...] = ("uint256",)
    index: int = 0
    per: Probe | None = None


@dataclass(frozen=True, slots=True)
class RemedyRequest:
    """What a parameter-remedy search needs: the chain, the attack, the protocol's components,
    and how to measure the impact (probes, names, a forward simulation)."""

    rpc_url: str = field(repr=False)
    admin: Address  # who makes the setter calls: the timelock
    finding_class: str
    attack_txs: tuple[str, ...]
    components: Mapping[str, ComponentSource]
    protected: tuple[Address, ...] = ()
    skip_senders: tuple[Address, ...] = ()  # containment (sentinel) txs left out of the attack window
    regress: int = 12
    declared: Mapping[str, Sequence[str]] = field(default_factory=dict)
    alternatives: Mapping[str, Sequence[str]] = field(default_factory=dict)
    invariants: tuple[Invariant, ...] = ()
    probes: tuple[Probe, ...] = ()
    forward: Forward | None = None
    max_tries: int = 4
    max_blocked: int | None = None
    names: Mapping[str, str] = field(default_factory=dict)  # "0x<to>:0x<selector>" -> "lending.borrow"
    # Values the attack's asset moves at this oracle's prices (collateral posted is not a loss).
    price_oracle: Address | None = None
    # Tokens to count besides those the attack moved (a contained attack reverted: it moved none).
    assets: tuple[Address, ...] = ()
