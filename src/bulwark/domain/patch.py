"""Patches: where a flaw is (Localisation), how the source is edited (Edit) and the result (Patch)."""

from __future__ import annotations

from dataclasses import dataclass, field

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

    shape: str  # reentrancy | non-owner | tx-origin relay | arithmetic boundary | race | none
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
