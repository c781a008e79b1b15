"""Findings and incidents: what detection produces and what the incident flow tracks."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Any

from bulwark.domain.chain import Address, Selector, TxHash


class Severity(enum.IntEnum):
    """Ordered so that ``finding.severity >= Severity.HIGH`` reads naturally."""

    INFO = 0
    LOW = 1
    MEDIUM = 2
    HIGH = 3
    CRITICAL = 4

    @classmethod
    def parse(cls, text: str) -> Severity:
        try:
            return cls[text.strip().upper()]
        except KeyError:
            names = ", ".join(m.name.lower() for m in cls)
            raise ValueError(f"unknown severity {text!r}; use one of {names}") from None


class Confidence(enum.IntEnum):
    LOW = 0
    MEDIUM = 1
    HIGH = 2


class VulnClass(enum.StrEnum):
    """Classes shared by scenarios, detectors and fix templates."""

    REENTRANCY = "reentrancy"
    ACCESS_CONTROL = "access-control"
    ORACLE_MANIPULATION = "oracle-manipulation"
    ERC4626_INFLATION = "erc4626-inflation"
    UNCHECKED_RETURN = "unchecked-return"
    SIGNATURE_REPLAY = "signature-replay"
    INTEGER_OVERFLOW = "integer-overflow"
    INVARIANT_BREAK = "invariant-break"
    TX_ORIGIN = "tx-origin"
    UNPROTECTED_SELFDESTRUCT = "unprotected-selfdestruct"
    UNPROTECTED_DELEGATECALL = "unprotected-delegatecall"
    DOS = "denial-of-service"
    WEAK_RANDOMNESS = "weak-randomness"
    FRONT_RUNNING = "front-running"
    TIMESTAMP_DEPENDENCE = "timestamp-dependence"
    SUSPICIOUS_DEPLOYMENT = "suspicious-deployment"
    KNOWN_ATTACKER = "known-attacker"
    CUSTOM = "custom"


class Action(enum.StrEnum):
    """What a finding recommends; the response policy decides what is actually done."""

    NONE = "none"
    ALERT = "alert"
    PAUSE = "pause"
    PAUSE_SELECTORS = "pause-selectors"
    BLOCK_ADDRESS = "block-address"
    RATE_LIMIT = "rate-limit"


@dataclass(frozen=True, slots=True)
class Finding:
    """One detector's verdict on one transaction (pending or mined)."""

    detector: str
    vuln_class: VulnClass
    severity: Severity
    confidence: Confidence
    title: str
    protocol: str
    contract: Address | None
    tx_hash: TxHash | None
    pending: bool
    block_number: int | None = None
    function: Selector | None = None
    action: Action = Action.ALERT
    selectors: tuple[Selector, ...] = ()
    evidence: dict[str, Any] = field(default_factory=dict)

    @property
    def dedup_key(self) -> tuple[str, str, str]:
        """One attack is one incident: detector, protocol and target identify it."""
        return (self.detector, self.protocol, self.contract or "")


class IncidentState(enum.StrEnum):
    DETECTED = "detected"
    CONTAINED = "contained"
    PATCHED = "patched"
    VERIFIED = "verified"
    APPROVED = "approved"
    UPGRADED = "upgraded"
    RESUMED = "resumed"
    CLOSED = "closed"
    FAILED = "failed"
    ESCALATED = "escalated"


_S = IncidentState
# The happy path, plus FAILED/ESCALATED branches an operator resolves; CLOSED is terminal.
TRANSITIONS: dict[IncidentState, frozenset[IncidentState]] = {
    _S.DETECTED: frozenset({_S.CONTAINED, _S.PATCHED, _S.ESCALATED, _S.FAILED, _S.CLOSED}),
    _S.CONTAINED: frozenset({_S.PATCHED, _S.ESCALATED, _S.FAILED}),
    _S.PATCHED: frozenset({_S.VERIFIED, _S.ESCALATED, _S.FAILED}),
    _S.VERIFIED: frozenset({_S.APPROVED, _S.ESCALATED, _S.FAILED}),
    _S.APPROVED: frozenset({_S.UPGRADED, _S.ESCALATED, _S.FAILED}),
    _S.UPGRADED: frozenset({_S.RESUMED, _S.ESCALATED, _S.FAILED}),
    _S.RESUMED: frozenset({_S.CLOSED}),
    _S.ESCALATED: frozenset({_S.PATCHED, _S.VERIFIED, _S.APPROVED, _S.CLOSED, _S.FAILED}),
    _S.FAILED: frozenset({_S.ESCALATED, _S.CLOSED}),
    _S.CLOSED: frozenset(),
}


def can_transition(current: IncidentState, to: IncidentState) -> bool:
    return to in TRANSITIONS[current]
