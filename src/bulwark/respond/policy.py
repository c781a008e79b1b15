"""The response policy: which findings lead to which restriction, on which contracts.

Rules are tried in order; the first that matches a finding decides (no rule: alert only). A rule
matches on minimum severity, vulnerability classes, detectors and whether the finding is about a
pending transaction. Its actions are concrete kinds or ``recommended`` (what the detector
suggested). ``scope`` is ``target`` (the component the finding names; the whole protocol when it
names none we protect) or ``protocol`` (every protected component of the protocol).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

from bulwark.domain import Action, Address, Finding, Selector, Severity, Transaction, VulnClass
from bulwark.respond.actions import PlannedAction

__all__ = ["DEFAULT_POLICY", "ProtectedSet", "ResponsePolicy", "ResponseRule", "plan"]

ActionChoice = Action | Literal["recommended"]
ON_CHAIN = frozenset({Action.PAUSE, Action.PAUSE_SELECTORS, Action.BLOCK_ADDRESS, Action.RATE_LIMIT})


@dataclass(frozen=True, slots=True)
class ProtectedSet:
    """What one protocol lets the guardian act on: its registered components and the assets
    each holds (for outflow-limit trips)."""

    protocol: str
    guardian: Address
    targets: tuple[Address, ...]
    assets: Mapping[Address, tuple[Address, ...]] = field(default_factory=dict)

    def has(self, address: str | None) -> bool:
        return address is not None and any(t.lower() == address.lower() for t in self.targets)

    def canonical(self, address: str) -> Address:
        return next(t for t in self.targets if t.lower() == address.lower())


@dataclass(frozen=True, slots=True)
class ResponseRule:
    name: str
    actions: tuple[ActionChoice, ...]
    min_severity: Severity = Severity.HIGH
    classes: frozenset[VulnClass] = frozenset()
    detectors: frozenset[str] = frozenset()
    pending_only: bool = False
    scope: Literal["target", "protocol"] = "target"

    def matches(self, finding: Finding) -> bool:
        return (
            finding.severity >= self.min_severity
            and (not self.classes or finding.vuln_class in self.classes)
            and (not self.detectors or finding.detector in self.detectors)
            and (finding.pending or not self.pending_only)
        )


@dataclass(frozen=True, slots=True)
class ResponsePolicy:
    rules: tuple[ResponseRule, ...]

    def rule_for(self, finding: Finding) -> ResponseRule | None:
        return next((r for r in self.rules if r.matches(finding)), None)


DEFAULT_POLICY = ResponsePolicy(
    (
        # A high or critical finding pauses every component of the protocol in one transaction
        # (the drain is often not where the detector first looks), and blocks the attacker.
        ResponseRule("stop-the-protocol", (Action.PAUSE,), min_severity=Severity.HIGH, scope="protocol"),
    )
)


def _attackers(finding: Finding, attack: Transaction | None, protected: ProtectedSet) -> tuple[Address, ...]:
    out: list[Address] = []
    if attack is not None:
        out.append(attack.sender)
        if attack.to is not None and not protected.has(attack.to):
            out.append(attack.to)
    return tuple(dict.fromkeys(out))


def plan(
    finding: Finding,
    protected: ProtectedSet,
    policy: ResponsePolicy = DEFAULT_POLICY,
    attack: Transaction | None = None,
) -> tuple[PlannedAction, ...]:
    """The restrictions ``policy`` asks for on ``finding`` (empty: alert only)."""
    rule = policy.rule_for(finding)
    if rule is None or not protected.targets:
        return ()
    if rule.scope == "target" and protected.has(finding.contract):
        assert finding.contract is not None
        targets: tuple[Address, ...] = (protected.canonical(finding.contract),)
    else:
        targets = protected.targets
    out: list[PlannedAction] = []
    for choice in rule.actions:
        kind = finding.action if choice == "recommended" else choice
        if kind not in ON_CHAIN:
            continue
        if kind is Action.PAUSE:
            out.append(PlannedAction(Action.PAUSE, targets))
        elif kind is Action.PAUSE_SELECTORS:
            sels: tuple[Selector, ...] = finding.selectors or (
                (finding.function,) if finding.function else ()
            )
            if sels and len(targets) == 1:
                out.append(PlannedAction(Action.PAUSE_SELECTORS, targets, selectors=sels))
            else:  # nothing narrower to go on: the whole component(s)
                out.append(PlannedAction(Action.PAUSE, targets))
        elif kind is Action.BLOCK_ADDRESS:
            accounts = _attackers(finding, attack, protected)
            if accounts:
                out.extend(PlannedAction(Action.BLOCK_ADDRESS, (t,), accounts=accounts) for t in targets)
        elif kind is Action.RATE_LIMIT:
            for t in targets:
                out.extend(
                    PlannedAction(Action.RATE_LIMIT, (t,), asset=a) for a in protected.assets.get(t, ())
                )
    # One action of each kind-and-effect only.
    return tuple({a.key: a for a in out}.values())
