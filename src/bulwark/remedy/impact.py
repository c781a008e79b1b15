"""The impact report of a remedy (code or parameters): what it costs the protocol's users.

Inputs are observations made on two forks, the original and the remedied protocol, over the
same replayed benign history and the same forward simulation: per-transaction success, and
metric readings (prices, liquidity, utilisation, health factors, balances of the largest users).
Outputs: the benign transactions that would have failed (who, which function), and every
metric's change with the largest price and liquidity change singled out.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from bulwark.domain.remedy import BlockedCall, ImpactReport, MetricDelta, MetricKind, RemedyKind, TxRun

__all__ = ["Observed", "TxRun", "impact_report"]


@dataclass(frozen=True, slots=True)
class Observed:
    """What one fork showed: the transactions (history then forward) and the metric readings,
    keyed by (kind, label, phase)."""

    history: tuple[TxRun, ...]
    forward: tuple[TxRun, ...]
    metrics: Mapping[tuple[MetricKind, str, str], int | None]


def _blocked(original: Sequence[TxRun], remedied: Sequence[TxRun], phase: str) -> list[BlockedCall]:
    by_tx = {r.tx: r for r in remedied}
    out = []
    for o in original:
        r = by_tx.get(o.tx)
        if o.ok and r is not None and not r.ok:
            out.append(BlockedCall(o.tx, o.sender, o.function, phase))
    return out


def impact_report(
    kind: RemedyKind, label: str, original: Observed, remedied: Observed, notes: Sequence[str] = ()
) -> ImpactReport:
    blocked = _blocked(original.history, remedied.history, "history")
    blocked += _blocked(original.forward, remedied.forward, "forward")
    metrics = [
        MetricDelta(k, lbl, ph, original.metrics.get((k, lbl, ph)), remedied.metrics.get((k, lbl, ph)))
        for (k, lbl, ph) in sorted(
            set(original.metrics) | set(remedied.metrics), key=lambda x: (x[2], x[0].value, x[1])
        )
    ]
    return ImpactReport(
        remedy=kind,
        label=label,
        replayed=len(original.history),
        simulated=len(original.forward),
        blocked=tuple(blocked),
        metrics=tuple(metrics),
        notes=tuple(notes),
    )
