"""tx.origin authentication: compare the immediate caller instead."""

from __future__ import annotations

from collections.abc import Iterator

from bulwark.domain import VulnClass
from bulwark.domain.patch import Localisation
from bulwark.patch.context import FixContext
from bulwark.patch.fixes.base import Candidate, FixTemplate
from bulwark.patch.solast import is_tx_origin, src, walk


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
        edits = []
        for n in walk(contract.node):
            if is_tx_origin(n) and lo <= src(n).start < hi and ctx.editable(n):
                edits.append(ctx.replace(n, "msg.sender"))
        if not edits:
            return
        yield self.candidate(
            finding,
            edits,
            "The caller was authorised by tx.origin, so any contract the owner interacts with could call in "
            "on the owner's behalf (phishing). The fix checks msg.sender, the immediate caller.",
        )
