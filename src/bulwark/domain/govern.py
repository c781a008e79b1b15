"""Governance objects: policies, proposals and who has signed them. Imports: standard library only.

A :class:`Proposal` is the exact set of Safe transactions that carry one change (an upgrade, an
unpause) through the TimelockController; signers approve it by signing every one of its Safe
transaction hashes. Proposals are stored as JSON (``to_json``/``from_json``) with their state.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from bulwark.domain.chain import Address, Hash32
from bulwark.domain.incident import Severity


class GovAction(enum.StrEnum):
    UPGRADE = "upgrade"
    UNPAUSE = "unpause"
    PARAMETERS = "parameters"  # administrative setter calls (a remedy by state, not by code)


class Role(enum.StrEnum):
    SENTINEL = "sentinel"  # pause only, through the guardian
    COUNCIL = "council"  # security council: Safe owners who sign emergency changes
    DAO_EXECUTOR = "dao_executor"  # may execute ready timelock operations


class ProposalState(enum.StrEnum):
    PENDING = "pending"  # collecting signatures
    APPROVED = "approved"  # threshold met, nothing sent yet
    SCHEDULED = "scheduled"  # on the timelock, waiting for the delay
    EXECUTED = "executed"  # the change is live and its post-checks passed
    REJECTED = "rejected"  # a signer vetoed it: never executes
    EXPIRED = "expired"  # not approved in time
    FAILED = "failed"  # executed, but a post-check failed (the protocol stays paused)


TERMINAL_STATES = frozenset({ProposalState.EXECUTED, ProposalState.REJECTED, ProposalState.EXPIRED})
_P = ProposalState
PROPOSAL_TRANSITIONS: Mapping[ProposalState, frozenset[ProposalState]] = {
    _P.PENDING: frozenset({_P.APPROVED, _P.REJECTED, _P.EXPIRED}),
    _P.APPROVED: frozenset({_P.SCHEDULED, _P.EXECUTED, _P.FAILED, _P.REJECTED, _P.EXPIRED}),
    _P.SCHEDULED: frozenset({_P.EXECUTED, _P.FAILED, _P.REJECTED}),
    _P.EXECUTED: frozenset(),
    _P.REJECTED: frozenset(),
    _P.EXPIRED: frozenset(),
    _P.FAILED: frozenset(),
}


def can_move(current: ProposalState, to: ProposalState) -> bool:
    return to in PROPOSAL_TRANSITIONS[current]


@dataclass(frozen=True, slots=True)
class ActionRule:
    """Threshold and timelock delay for one action at one severity."""

    threshold: int
    delay_s: int
    signers: tuple[Address, ...] = ()  # who may sign; empty: every Safe owner
    ttl_s: int = 24 * 3600  # how long signatures are collected


@dataclass(frozen=True, slots=True)
class Policy:
    """Who may do what for one protocol, and through which contracts."""

    protocol: str
    safe: Address
    timelock: Address
    proxies: Mapping[str, Address]  # component name -> ERC-1967 proxy
    owners: tuple[Address, ...]  # the Safe's owners, as configured
    safe_threshold: int
    rules: Mapping[tuple[GovAction, Severity | None], ActionRule]  # None: any severity
    sentinels: tuple[Address, ...] = ()
    council: tuple[Address, ...] = ()
    dao_executor: Address | None = None
    guardian: Address | None = None
    multisend: Address | None = None  # MultiSendCallOnly, for batching when a delay is 0

    def rule(self, action: GovAction, severity: Severity | None = None) -> ActionRule:
        """The rule for ``action`` at ``severity``: an exact match, else the nearest lower
        configured severity, else the action's default (``None``)."""
        if severity is not None:
            for sev in sorted((s for a, s in self.rules if a is action and s is not None), reverse=True):
                if sev <= severity:
                    return self.rules[(action, sev)]
        default = self.rules.get((action, None))
        if default is None:
            raise KeyError(f"no policy rule for {action.value} at severity {severity}")
        return default

    def eligible(self, rule: ActionRule) -> tuple[Address, ...]:
        return rule.signers or self.owners


@dataclass(frozen=True, slots=True)
class SafeTxSpec:
    """One Safe transaction of a proposal, with the hash owners sign."""

    step: str  # "schedule", "execute" or "schedule+execute" (MultiSend batch)
    to: Address
    data: str  # 0x-hex
    nonce: int
    operation: int  # 0 call, 1 delegatecall (MultiSend)
    safe_tx_hash: Hash32
    value: int = 0


@dataclass(frozen=True, slots=True)
class TimelockOp:
    """The call the timelock makes, identified as ``hashOperation`` does."""

    target: Address
    data: str  # 0x-hex
    predecessor: Hash32
    salt: Hash32  # the evidence hash: the CallSalt event puts it on chain
    delay_s: int
    operation_id: Hash32
    value: int = 0


@dataclass(frozen=True, slots=True)
class Proposal:
    id: str
    protocol: str
    action: GovAction
    severity: Severity | None
    chain_id: int
    safe: Address
    timelock: Address
    component: str
    proxy: Address
    evidence_hash: Hash32
    timelock_op: TimelockOp
    safe_txs: tuple[SafeTxSpec, ...]
    threshold: int
    eligible: tuple[Address, ...]
    created_at: float
    expires_at: float
    description: str
    implementation: Address | None = None  # upgrades: the deployed, verified implementation
    implementation_codehash: Hash32 | None = None  # keccak256 of its runtime code at proposal time
    depends_on: str | None = None  # unpause: the upgrade proposal that must have executed
    incident_id: str | None = None

    @property
    def hashes(self) -> tuple[Hash32, ...]:
        """What a signer signs, in order."""
        return tuple(t.safe_tx_hash for t in self.safe_txs)

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "protocol": self.protocol,
            "action": self.action.value,
            "severity": self.severity.name.lower() if self.severity is not None else None,
            "chain_id": self.chain_id,
            "safe": self.safe,
            "timelock": self.timelock,
            "component": self.component,
            "proxy": self.proxy,
            "evidence_hash": self.evidence_hash,
            "timelock_op": {
                "target": self.timelock_op.target,
                "value": self.timelock_op.value,
                "data": self.timelock_op.data,
                "predecessor": self.timelock_op.predecessor,
                "salt": self.timelock_op.salt,
                "delay_s": self.timelock_op.delay_s,
                "operation_id": self.timelock_op.operation_id,
            },
            "safe_txs": [
                {
                    "step": t.step,
                    "to": t.to,
                    "value": t.value,
                    "data": t.data,
                    "nonce": t.nonce,
                    "operation": t.operation,
                    "safe_tx_hash": t.safe_tx_hash,
                }
                for t in self.safe_txs
            ],
            "threshold": self.threshold,
            "eligible": list(self.eligible),
            "created_at": self.created_at,
            "expires_at": self.expires_at,
            "description": self.description,
            "implementation": self.implementation,
            "implementation_codehash": self.implementation_codehash,
            "depends_on": self.depends_on,
            "incident_id": self.incident_id,
        }

    @classmethod
    def from_json(cls, d: Mapping[str, Any]) -> Proposal:
        op = d["timelock_op"]
        sev = d.get("severity")
        return cls(
            id=str(d["id"]),
            protocol=str(d["protocol"]),
            action=GovAction(d["action"]),
            severity=Severity.parse(sev) if sev else None,
            chain_id=int(d["chain_id"]),
            safe=Address(d["safe"]),
            timelock=Address(d["timelock"]),
            component=str(d["component"]),
            proxy=Address(d["proxy"]),
            evidence_hash=Hash32(d["evidence_hash"]),
            timelock_op=TimelockOp(
                target=Address(op["target"]),
                value=int(op.get("value", 0)),
                data=str(op["data"]),
                predecessor=Hash32(op["predecessor"]),
                salt=Hash32(op["salt"]),
                delay_s=int(op["delay_s"]),
                operation_id=Hash32(op["operation_id"]),
            ),
            safe_txs=tuple(
                SafeTxSpec(
                    step=str(t["step"]),
                    to=Address(t["to"]),
                    value=int(t.get("value", 0)),
                    data=str(t["data"]),
                    nonce=int(t["nonce"]),
                    operation=int(t["operation"]),
                    safe_tx_hash=Hash32(t["safe_tx_hash"]),
                )
                for t in d["safe_txs"]
            ),
            threshold=int(d["threshold"]),
            eligible=tuple(Address(a) for a in d["eligible"]),
            created_at=float(d["created_at"]),
            expires_at=float(d["expires_at"]),
            description=str(d["description"]),
            implementation=Address(d["implementation"]) if d.get("implementation") else None,
            implementation_codehash=(
                Hash32(d["implementation_codehash"]) if d.get("implementation_codehash") else None
            ),
            depends_on=d.get("depends_on"),
            incident_id=d.get("incident_id"),
        )


@dataclass(frozen=True, slots=True)
class SignatureStatus:
    """Who has signed a proposal, who rejected it and who is still missing."""

    proposal_id: str
    state: ProposalState
    threshold: int
    eligible: tuple[Address, ...]
    signed: tuple[Address, ...] = ()
    rejected_by: tuple[Address, ...] = ()
    expires_at: float = 0.0

    @property
    def missing(self) -> tuple[Address, ...]:
        done = {a.lower() for a in (*self.signed, *self.rejected_by)}
        return tuple(a for a in self.eligible if a.lower() not in done)

    @property
    def met(self) -> bool:
        return len(self.signed) >= self.threshold and not self.rejected_by

    def to_json(self) -> dict[str, Any]:
        return {
            "proposal_id": self.proposal_id,
            "state": self.state.value,
            "threshold": self.threshold,
            "signed": list(self.signed),
            "missing": list(self.missing),
            "rejected_by": list(self.rejected_by),
            "met": self.met,
            "expires_at": self.expires_at,
        }


@dataclass(frozen=True, slots=True)
class PostCheck:
    name: str
    ok: bool
    detail: str = ""


@dataclass(frozen=True, slots=True)
class ExecutionResult:
    proposal_id: str
    state: ProposalState
    tx_hashes: tuple[str, ...] = ()
    checks: tuple[PostCheck, ...] = field(default=())

    @property
    def ok(self) -> bool:
        return self.state is ProposalState.EXECUTED and all(c.ok for c in self.checks)


@dataclass(frozen=True, slots=True)
class SmokeCall:
    """A call of one of the protocol's main functions that must succeed after an upgrade,
    made with ``eth_call`` from a normal user (nothing is sent)."""

    label: str
    to: Address
    data: str  # 0x-hex calldata
    sender: Address
