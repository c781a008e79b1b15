"""tx.origin authentication: compare the immediate caller instead."""

from __future__ import annotations

from collections.abc import Iterator

from bulwark.domain import VulnClass
from bulwark.domain.patch import Edit, Localisation
from bulwark.patch.context import FixContext
from bulwark.patch.fixes.base import Candidate, FixTemplate
from bulwark.patch.locate.checks.tx_origin import origin_uses
from bulwark.patch.solast import src, walk


class TxOriginFix(FixTemplate):
    NAME = "tx-origin-to-msg-sender"
    CLASSES = frozenset({VulnClass.TX_ORIGIN})
    DESCRIPTION = "authenticates msg.sender instead of tx.origin"

    def propose(self, ctx: FixContext, finding: Localisation) -> Iterator[Candidate]:
        if finding.start is None or finding.length is None:
            return
        contract = ctx.program.contract(finding.contract)
        if contract is None:
            return
        lo, hi = finding.start, finding.start + finding.length
        edits: list[Edit] = []
        for base in contract.linearized:  # the flagged code may sit in an inherited contract
            if ctx.program.path_of(base.node) != finding.path:
                continue
            for block in walk(base.node):
                if block.get("nodeType") != "Block" or (src(block).start, src(block).end) != (lo, hi):
                    continue
                edits.extend(ctx.replace(n, "msg.sender") for n in origin_uses(block) if ctx.editable(n))
        if not edits:
            return
        yield self.candidate(
            finding,
            edits,
            "The caller was authorised by tx.origin, so any contract the owner interacts with could call in "
            "on the owner's behalf (phishing). The fix checks msg.sender, the immediate caller.",
        )
