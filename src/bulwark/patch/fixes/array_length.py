"""Array-length underflow (solc < 0.6): shorten a dynamic array only when it is long enough.

``arr.length--`` on an empty array wraps the length to 2**256 - 1; from then on the bounds check of
``arr[i] = v`` passes for every ``i``, and the element slot ``keccak256(p) + i`` can be made to land
on any storage slot, the owner's included. The fix puts ``require(arr.length >= n)`` before each
shrink (n = 1 for ``--``), so an empty array can no longer wrap and every index write stays within
the elements that exist. Shrinking a non-empty array behaves as before.
"""

from __future__ import annotations

from collections.abc import Iterator

from bulwark.domain import VulnClass
from bulwark.domain.patch import Edit, Localisation
from bulwark.patch.context import FixContext
from bulwark.patch.fixes.base import Candidate, FixTemplate
from bulwark.patch.locate.checks.array_length import length_shrinks
from bulwark.patch.solast import walk


def _pure(ctx: FixContext, node: dict[str, object]) -> bool:
    """No calls or assignments: the array expression can be evaluated once more in the check."""
    for n in walk(node):
        kind = n.get("nodeType")
        if kind == "FunctionCall" and n.get("kind") != "typeConversion":
            return False
        if kind == "Assignment" or (kind == "UnaryOperation" and n.get("operator") in ("++", "--", "delete")):
            return False
    return True


class ArrayLengthGuardFix(FixTemplate):
    NAME = "array-length-guard"
    CLASSES = frozenset({VulnClass.INTEGER_OVERFLOW})
    DESCRIPTION = "shortens a dynamic array only when it holds enough elements (no length underflow)"

    def propose(self, ctx: FixContext, finding: Localisation) -> Iterator[Candidate]:
        if "array-length-underflow" not in finding.detector:
            return
        program = ctx.program
        contract = program.contract(finding.contract)
        if contract is None:
            return
        edits: list[Edit] = []
        names: list[str] = []
        # every unguarded shrink in the contract: an attacker uses whichever one is left
        for fn in contract.functions:
            if fn.body is None or not ctx.editable(fn.body):
                continue
            for stmt, array, amount in length_shrinks(program, fn):
                if not _pure(ctx, array) or (amount is not None and not _pure(ctx, amount)):
                    continue
                check = (
                    f"require({ctx.node_text(array)}.length > 0);"
                    if amount is None
                    else f"require({ctx.node_text(array)}.length >= {ctx.node_text(amount)});"
                )
                edits.append(ctx.insert_before(stmt, check))
                names.append(fn.name or fn.kind)
        if not edits:
            return
        listed = ", ".join(dict.fromkeys(names))
        yield self.candidate(
            finding,
            edits,
            f"{listed} in {contract.name} shortened a dynamic array without checking its length, so on an "
            "empty array the length wrapped to 2**256-1 and a later index write could overwrite any "
            "storage slot (the owner, balances). The fix requires the array to hold enough elements "
            "before it is shortened; shortening a non-empty array works as before. ABI and storage layout "
            "are unchanged.",
            preference=1,
        )
