"""Probe move: a view the operator named (a price, a share price, a ratio, a balance) jumps
within one pending transaction. Any view can be a probe (``protocols.<p>.contracts.<c>.probes``):
the screener reads it at each head and again right after the transaction in the same simulated
block, so the move is the transaction's own. With a flash loan in the same transaction (from the
call tree, whatever the lender) the move is critical."""

from __future__ import annotations

from collections.abc import Iterable
from fractions import Fraction

from pydantic import Field

from bulwark.detect.base import About, Detector, Params
from bulwark.detect.model import ChainView, TxEvent
from bulwark.detect.trace import flash_loans
from bulwark.domain import Confidence, Finding, Severity, VulnClass


class ProbeParams(Params):
    critical_with_flash_loan: bool = True
    min_before: int = Field(default=1, ge=1)  # a probe below this (e.g. an empty vault) is not judged


class ProbeMove(Detector):
    """A configured probe (any view: price, share price, ratio, balance) moves beyond its bound in one tx."""

    ABOUT = About("probe-move", VulnClass.ORACLE_MANIPULATION, trace_only=True)
    IMPACT, CONFIDENCE = Severity.HIGH, Confidence.MEDIUM
    params: ProbeParams

    def __call__(self, view: ChainView, event: TxEvent) -> Iterable[Finding]:
        if not event.probes_after or not event.success:
            return ()  # no probe read after it (most transactions): a plain return, no generator
        return self._judge(view, event)

    def _judge(self, view: ChainView, event: TxEvent) -> Iterable[Finding]:
        p = self.params
        moved = []
        for (contract, call), after in event.probes_after.items():
            info = view.protocol.contracts.get(contract)
            before = view.state.probes.get((contract, call))
            if info is None or before is None or before < p.min_before:
                continue
            probe = next((pr for pr in info.probes if pr.call == call), None)
            if probe is None:
                continue
            move = Fraction(after - before, before)
            if abs(move) > Fraction(probe.max_move):
                moved.append((info, call, before, after, move, probe.max_move))
        if not moved:
            return
        loans = flash_loans(event.steps) if p.critical_with_flash_loan else []
        for info, call, before, after, move, bound in moved:
            yield self.finding(
                view,
                event,
                title=f"{info.name}.{call} moved {float(move):+.1%} in one transaction"
                + (" financed by a flash loan" if loans else ""),
                contract=info.address,
                severity=Severity.CRITICAL if loans else None,
                confidence=Confidence.HIGH if loans else None,
                evidence={
                    "probe": call,
                    "before": before,
                    "after": after,
                    "move": float(move),
                    "max_move": bound,
                    "flash_loan": bool(loans),
                    "loans": [
                        {"lender": ln.lender, "borrower": ln.borrower, "asset": ln.token, "amount": ln.amount}
                        for ln in loans
                    ],
                },
            )
