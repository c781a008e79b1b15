"""Fixes for the logic flaws a function's siblings give away (locate/checks/logic_siblings.py):

* a stale cached entry is read afresh where it is written back (same result whenever the keys differ);
* a payout checks the done-marks its sibling payouts set (``require(!o.released)``);
* a payout on the inverse path requires the opposite of its sibling's outcome (``raised < goal``),
  or, ranked after it, the same outcome;
* a paying branch that skips the debit its sibling branch makes gets that debit, before it pays;
* a debit of an account the caller names requires and spends the caller's allowance from it.
"""

from __future__ import annotations

from collections.abc import Iterator

from bulwark.domain import VulnClass
from bulwark.domain.patch import Localisation
from bulwark.patch.context import FixContext
from bulwark.patch.fixes.base import Candidate, FixTemplate
from bulwark.patch.locate.checks.logic_siblings import (
    NEGATE,
    inverse_conditions,
    missing_sibling_flags,
    skipped_debits,
    stale_cached_writes,
    unconsumed_allowance,
)
from bulwark.patch.solast import Contract, Function, src


class SiblingCheckFix(FixTemplate):
    NAME = "sibling-check"
    CLASSES = frozenset({VulnClass.INVARIANT_BREAK})
    DESCRIPTION = "adds the check a function's sibling functions make, or reads a cached entry afresh"

    def propose(self, ctx: FixContext, finding: Localisation) -> Iterator[Candidate]:
        found = ctx.target(finding)
        if found is not None:
            for detector, shape in (
                ("stale-cached-entry", self._fresh_read),
                ("sibling-payout-flag", self._sibling_mark),
                ("inverse-path-condition", self._inverse_outcome),
                ("branch-skips-debit", self._branch_debit),
                ("unconsumed-allowance", self._allowance),
            ):
                if detector in finding.detector:
                    yield from shape(ctx, finding, *found)

    def _fresh_read(
        self, ctx: FixContext, finding: Localisation, contract: Contract, fn: Function
    ) -> Iterator[Candidate]:
        stale = stale_cached_writes(ctx.program, fn)
        if stale:
            yield self.candidate(
                finding,
                [ctx.replace(ident, ctx.node_text(fresh)) for _, ident, fresh in stale],
                f"{fn.name} in {contract.name} read two entries of one mapping, wrote the first back "
                "and then wrote the second from the copy read before, so when both keys name the same "
                "entry (a transfer to oneself) the first write was lost and value came from nothing. "
                "The fix reads the entry afresh where it is written back: the result is the same "
                "whenever the keys differ. ABI and storage layout are unchanged.",
            )

    def _sibling_mark(
        self, ctx: FixContext, finding: Localisation, contract: Contract, fn: Function
    ) -> Iterator[Candidate]:
        edits = []
        for write, field in missing_sibling_flags(ctx.program, fn):
            check = f"require(!{write.mark(field)}{ctx.reason('already ' + field)});"
            edits.append(ctx.insert_before(write.statement, check))
        if edits:
            yield self.candidate(
                finding,
                edits,
                f"{fn.name} in {contract.name} paid out of a record without checking a mark its sibling "
                "payouts set and check, so the same record could be paid twice, once by each path. "
                "The fix adds the check the siblings already make. ABI and storage layout are unchanged.",
            )

    def _inverse_outcome(
        self, ctx: FixContext, finding: Localisation, contract: Contract, fn: Function
    ) -> Iterator[Candidate]:
        for guard, cond, other in inverse_conditions(ctx.program, fn)[:1]:
            left = ctx.node_text(cond.get("leftExpression") or {})
            right = ctx.node_text(cond.get("rightExpression") or {})
            op = str(cond.get("operator"))
            # the inverse path (a refund beside a claim) first; the same outcome ranks after it
            for rank, (wanted, how) in enumerate(
                ((NEGATE[op], "the opposite of"), (op, "the same outcome as"))
            ):
                check = f"require({left} {wanted} {right}{ctx.reason('wrong outcome')});"
                yield self.candidate(
                    finding,
                    [ctx.insert_after(guard, check)],
                    f"{fn.name} and {other.name} in {contract.name} both pay out behind the same guard, "
                    f"but only {other.name} required {left} {op} {right}, so both could pay. The fix "
                    f"makes {fn.name} require {how} {other.name}'s condition ({left} {wanted} {right}). "
                    "ABI and storage layout are unchanged.",
                    preference=-rank,
                )

    def _branch_debit(
        self, ctx: FixContext, finding: Localisation, contract: Contract, fn: Function
    ) -> Iterator[Candidate]:
        found = skipped_debits(ctx.program, fn)
        if found:
            debit, pay = found[0]
            text = ctx.node_text(debit).rstrip().rstrip(";")
            yield self.candidate(
                finding,
                [ctx.insert_before(pay, f"{text};")],
                f"{fn.name} in {contract.name} checks a balance and pays out on more than one branch, but "
                f"only one branch lowered the balance ({text}), so the other could be taken again and "
                "again out of the same balance. The fix makes that branch lower it too, before it pays, "
                "as its sibling does. ABI and storage layout are unchanged.",
            )

    def _allowance(
        self, ctx: FixContext, finding: Localisation, contract: Contract, fn: Function
    ) -> Iterator[Candidate]:
        found = unconsumed_allowance(ctx.program, fn)
        if found is None:
            return
        debit, owner, amount, mapping = found
        entry = f"{ctx.program.name_of(mapping)}[{ctx.node_text(owner)}][msg.sender]"
        value = ctx.node_text(amount)
        yield self.candidate(
            finding,
            [
                ctx.insert_before(
                    debit,
                    f"require({entry} >= {value}{ctx.reason('allowance too low')});\n"
                    f"{ctx.text(debit).indent_at(src(debit).start)}{entry} -= {value};",
                )
            ],
            f"{fn.name} in {contract.name} moved funds out of an account its caller names without looking at "
            f"the allowance that account gave the caller ({ctx.program.name_of(mapping)}), so anyone could "
            "spend anyone's balance. The fix requires that allowance to cover the amount and spends it, as "
            "an approval is meant to work. ABI and storage layout are unchanged.",
        )
