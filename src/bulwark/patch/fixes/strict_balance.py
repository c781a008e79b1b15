"""Strict balance equality: compare the contract's own balance with ``>=``, not ``==``.

Ether can always be forced into a contract (``selfdestruct``, block rewards), so a balance that
must *equal* the books can be broken for good by one wei. The books stay covered as long as the
balance is at least what they say; ``balance == total`` becomes ``balance >= total`` (and ``!=``
becomes ``<``), mirrored when the balance is on the right. Unchanged whenever nobody forces ether in.
"""

from __future__ import annotations

from collections.abc import Iterator

from bulwark.domain import VulnClass
from bulwark.domain.patch import Edit, Localisation
from bulwark.patch.context import FixContext
from bulwark.patch.fixes.base import Candidate, FixTemplate
from bulwark.patch.locate.checks.strict_balance import is_own_balance, strict_balance_checks
from bulwark.patch.solast import Function, Modifier, walk

# (operator, balance on the left) -> the tolerant operator
_TOLERANT = {("==", True): ">=", ("==", False): "<=", ("!=", True): "<", ("!=", False): ">"}


class BalanceAtLeastFix(FixTemplate):
    NAME = "balance-at-least"
    CLASSES = frozenset({VulnClass.DOS})
    DESCRIPTION = "compares the contract's own balance with >= instead of == (forced ether cannot block it)"

    def propose(self, ctx: FixContext, finding: Localisation) -> Iterator[Candidate]:
        if "strict-balance-equality" not in finding.detector:
            return
        contract = ctx.program.contract(finding.contract)
        if contract is None:
            return
        edits: list[Edit] = []
        parts: list[Function | Modifier] = [*contract.functions, *contract.modifiers]
        for part in parts:
            if part.body is None or not ctx.editable(part.body):
                continue
            for cmp in strict_balance_checks(ctx.program, part):
                left = cmp.get("leftExpression") or {}
                right = cmp.get("rightExpression") or {}
                on_left = any(is_own_balance(x) for x in walk(left))
                op = _TOLERANT[(str(cmp["operator"]), on_left)]
                edits.append(ctx.replace(cmp, f"{ctx.node_text(left)} {op} {ctx.node_text(right)}"))
        if not edits:
            return
        yield self.candidate(
            finding,
            edits,
            f"{contract.name} required its ether balance to equal its books exactly, and anyone can force "
            "ether in (selfdestruct) so that the equality never holds again, blocking every function that "
            "checks it. The fix requires the balance to be at least the books (>=), which still catches "
            "missing ether; nothing changes while nobody forces ether in. ABI and storage are unchanged.",
        )
