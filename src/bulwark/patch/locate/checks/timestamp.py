"""Waiting periods measured with the block timestamp alone."""

from __future__ import annotations

from collections.abc import Iterator

from bulwark.domain import VulnClass
from bulwark.domain.patch import Localisation
from bulwark.patch.locate.facts import own_entries
from bulwark.patch.locate.finding import localisation
from bulwark.patch.solast import Contract, Program, base_variable


def _clock_written(program: Program, contract: Contract) -> set[int]:
    """State variables assigned the current block time somewhere in the contract."""
    from bulwark.patch.locate.checks.clock_span import is_now

    out: set[int] = set()
    for fn in contract.all_functions:
        for n in fn.program.nodes(fn.body):
            if n.get("nodeType") == "Assignment" and is_now(n.get("rightHandSide") or {}):
                root = base_variable(n.get("leftHandSide") or {}) or {}
                if root.get("referencedDeclaration") is not None:
                    out.add(int(root["referencedDeclaration"]))
    return out


def check_timestamp(program: Program, contract: Contract) -> Iterator[Localisation]:
    from bulwark.patch.fixes.timestamp import waiting_checks

    clock_set = _clock_written(program, contract)
    for fn in own_entries(program, contract):
        found = waiting_checks(program, fn.body or {})
        if found:
            root = base_variable(found[0][1]) or {}
            # the stored time comes from the clock itself: the waiting period is the whole point
            sure = root.get("referencedDeclaration") in clock_set
            yield localisation(
                program,
                "timestamp-wait",
                VulnClass.TIMESTAMP_DEPENDENCE,
                contract,
                fn,
                found[0][0],
                0.62 if sure else 0.45,
                f"{fn.name} measures a waiting period with the block timestamp only: a block producer "
                "who sets its timestamp ahead passes it in one block",
            )
