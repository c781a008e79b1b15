"""Patches: where a flaw is (Localisation), how the source is edited (Edit) and the result (Patch)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from bulwark.domain.incident import VulnClass


@dataclass(frozen=True, slots=True)
class Edit:
    """Replace the UTF-8 bytes ``[start, end)`` of ``path`` by ``replacement`` (an insertion if empty)."""

    path: str
    start: int
    end: int
    replacement: str

    def __post_init__(self) -> None:
        if self.start < 0 or self.end < self.start:
            raise ValueError(f"bad edit range [{self.start}, {self.end}) in {self.path}")


@dataclass(frozen=True, slots=True)
class Localisation:
    """One suspected flaw: which detector saw it, where, how sure (``score`` in [0, 1]) and why."""

    detector: str
    vuln_class: VulnClass
    contract: str
    function: str | None  # the function's name as written ("withdraw"), None for contract-level
    lines: tuple[int, ...]
    score: float
    evidence: tuple[str, ...] = ()
    path: str | None = None  # source unit holding the flaw
    start: int | None = None  # byte offset of the flagged node, when known
    length: int | None = None


CALLER = "caller"  # a preimage part that is the calling account, not one of the function's arguments


@dataclass(frozen=True, slots=True)
class PreimagePart:
    """One value hashed into a commitment: the caller's address (``arg`` None) or an argument of the
    function (``arg``: its position), with the type it is packed as (``abi.encodePacked``)."""

    name: str  # "caller", or the parameter's name
    type: str  # ABI type: address, string, bytes32, uint256, ...
    arg: int | None = None  # position among the function's parameters; None for the caller


@dataclass(frozen=True, slots=True)
class CallerChange:
    """How callers of a patched function must now call it: make ``first`` (on the same contract, from
    the same account, with keccak256(abi.encodePacked(preimage...)) as its one argument) and wait
    ``blocks_before`` blocks after it is mined before calling ``function`` itself."""

    contract: str  # the patched contract
    function: str  # full signature of the function whose callers change, e.g. "solve(string)"
    first: str  # signature of the call to make first, e.g. "bulwarkCommit(bytes32)"
    preimage: tuple[PreimagePart, ...]
    blocks_before: int = 1
    text: str = ""  # one line for humans

    def __post_init__(self) -> None:
        if self.blocks_before < 0:
            raise ValueError(f"blocks_before must be >= 0, not {self.blocks_before}")
        if not self.preimage:
            raise ValueError("a commitment hashes at least one value")

    def to_json(self) -> dict[str, Any]:
        return {
            "contract": self.contract,
            "function": self.function,
            "first": self.first,
            "argument": "keccak256(abi.encodePacked(" + ", ".join(p.name for p in self.preimage) + "))",
            "preimage": [p.name for p in self.preimage],
            "preimage_types": [p.type for p in self.preimage],
            "preimage_args": [p.arg for p in self.preimage],
            "blocks_before": self.blocks_before,
            "text": self.text,
        }

    @classmethod
    def from_json(cls, d: Mapping[str, Any]) -> CallerChange:
        parts = zip(d["preimage"], d["preimage_types"], d["preimage_args"], strict=True)
        return cls(
            contract=str(d["contract"]),
            function=str(d["function"]),
            first=str(d["first"]),
            preimage=tuple(PreimagePart(str(n), str(t), None if a is None else int(a)) for n, t, a in parts),
            blocks_before=int(d["blocks_before"]),
            text=str(d.get("text", "")),
        )


@dataclass(frozen=True, slots=True)
class BehaviourChange:
    """One call on which a candidate behaved unlike the original (the first in its call sequence)."""

    function: str  # signature, e.g. "withdraw(uint256)"
    sender: str  # role: deployer, alice, bob, contract (a contract forwarding the call)
    what: str  # reverts | succeeds | return data | logs | storage | balance
    expected: bool  # a restriction on the flaw path (the localised function, or an overflow boundary)
    detail: str = ""


@dataclass(frozen=True, slots=True)
class BehaviourCheck:
    """A candidate run against the original on generated call sequences (same seed, same inputs)."""

    checked: bool
    note: str  # how it was checked, or why it was not
    sequences: int = 0
    calls: int = 0
    changes: tuple[BehaviourChange, ...] = ()

    @property
    def kept(self) -> bool | None:
        """None when not checked; else whether nothing changed off the flaw path."""
        return None if not self.checked else not any(not c.expected for c in self.changes)


@dataclass(frozen=True, slots=True)
class AttackCheck:
    """A candidate against the attack's shape synthesised from the localisation."""

    shape: str  # reentrancy | non-owner | tx-origin relay | arithmetic boundary | race | sandwich | none
    outcome: str  # blocked | not-blocked | inconclusive
    detail: str


@dataclass(frozen=True, slots=True)
class Patch:
    """A candidate fix: compiled with the original's compiler version, ABI and layout checked."""

    vuln_class: VulnClass
    contract: str
    function: str | None
    template: str
    edits: tuple[Edit, ...]
    patched_sources: dict[str, str]
    diff: str
    rationale: str
    compiled: bool
    solc_version: str
    findings: tuple[Localisation, ...] = field(default=())
    score: float = 0.0
    behaviour: BehaviourCheck | None = None  # None: the behaviour check did not run
    attack: AttackCheck | None = None  # None: no attack was synthesised
    # how callers must now call (a commit before a reveal): the patch changes the calling protocol
    caller_changes: tuple[CallerChange, ...] = ()
