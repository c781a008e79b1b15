"""The fix-template contract: one class per template, metadata checked when the class is defined.

A template is a small callable: ``(FixContext, Localisation) -> Iterable[Candidate]``. It only
proposes edits; the engine compiles every candidate with the original compiler version and drops
those that do not compile or change the ABI or the storage layout.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import ClassVar

from bulwark.domain import VulnClass
from bulwark.domain.patch import CallerChange, Edit, Localisation
from bulwark.patch.context import FixContext


@dataclass(frozen=True, slots=True)
class Candidate:
    template: str
    vuln_class: VulnClass
    contract: str
    function: str | None
    edits: tuple[Edit, ...]
    rationale: str
    # selectors the template removes on purpose (a misnamed constructor becoming a constructor)
    removed_selectors: frozenset[str] = frozenset()
    # functions the template adds on purpose (the withdrawal half of a pull payment)
    added_selectors: frozenset[str] = frozenset()
    preference: float = 0.0  # orders candidates of one finding: higher first
    # how callers must now call (a commit before the reveal): set by a template that changes the protocol
    caller_changes: tuple[CallerChange, ...] = ()


class FixTemplate:
    """Base of every fix template. Subclasses set NAME, CLASSES and DESCRIPTION."""

    NAME: ClassVar[str]
    CLASSES: ClassVar[frozenset[VulnClass]]
    DESCRIPTION: ClassVar[str]

    def __init_subclass__(cls, **kwargs: object) -> None:
        super().__init_subclass__(**kwargs)
        for attr in ("NAME", "CLASSES", "DESCRIPTION"):
            if not getattr(cls, attr, None):
                raise TypeError(f"fix template {cls.__name__} must set {attr}")
        if not all(isinstance(c, VulnClass) for c in cls.CLASSES):
            raise TypeError(f"fix template {cls.__name__}: CLASSES must hold VulnClass members")

    def propose(self, ctx: FixContext, finding: Localisation) -> Iterable[Candidate]:
        raise NotImplementedError

    def candidate(
        self,
        finding: Localisation,
        edits: Iterable[Edit],
        rationale: str,
        *,
        function: str | None = None,
        removed_selectors: frozenset[str] = frozenset(),
        added_selectors: frozenset[str] = frozenset(),
        preference: float = 0.0,
        caller_changes: Iterable[CallerChange] = (),
    ) -> Candidate:
        return Candidate(
            template=self.NAME,
            vuln_class=finding.vuln_class,
            contract=finding.contract,
            function=function if function is not None else finding.function,
            edits=tuple(edits),
            rationale=rationale,
            removed_selectors=removed_selectors,
            added_selectors=added_selectors,
            preference=preference,
            caller_changes=tuple(caller_changes),
        )
