"""What the parameter path's steps record, computed from what earlier steps stored (pure: the
flow's records and the evidence document in, the next record out)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from bulwark.domain.remedy import RemedyKind, RemedyResult

__all__ = ["expected_reverts", "patch_record", "verify_record"]


def patch_record(result: RemedyResult) -> dict[str, Any]:
    """The patch step's record of a chosen, verified parameter remedy."""
    assert result.chosen is not None and result.evidence_hash is not None
    tried = result.to_json()
    return {
        "remedy": RemedyKind.PARAMETERS.value,
        "calls": [{"component": c.component, "call": c.label, "data": c.data} for c in result.chosen.calls],
        "strategy": result.chosen.strategy,
        "evidence_hash": result.evidence_hash,
        "attempts": tried["attempts"],
        "impact": tried["impact"],
        "impact_text": result.impact.summary_text() if result.impact else "",
    }


def verify_record(patch: Mapping[str, Any], document: Mapping[str, Any]) -> dict[str, Any]:
    """The verify step's record of a parameter remedy, in the code path's shape, from the
    evidence document its search stored."""
    attack = document.get("attack") or {}
    regression = document.get("regression") or {}
    return {
        "pass": bool(document.get("pass")),
        "reasons": [r.get("message", "") for r in document.get("reasons", [])],
        "layout_ok": True,
        "attack_blocked": bool(attack) and bool(document.get("pass")),
        "regressions": len({d.get("tx_hash") for d in regression.get("differences", [])}),
        "gas_overhead_pct": 0.0,
        "evidence_hash": patch["evidence_hash"],
        "benign_failed": (patch.get("impact") or {}).get("benign_failed"),
    }


def expected_reverts(patch: Mapping[str, Any], close: Mapping[str, Any]) -> dict[str, int] | None:
    """The benign reverts after resumption when every one is of a function the remedy's impact
    report said it blocks (the cost the signers saw); None when any other revert happened."""
    impact = patch.get("impact") or {}
    expected = {
        str(f).rsplit(".", 1)[-1].lower().replace("_", "") for f in impact.get("blocked_functions", [])
    }
    reverted: dict[str, int] = (close.get("benign_after") or {}).get("reverted_by_action") or {}
    unexpected = {a: n for a, n in reverted.items() if n and a.replace("_", "") not in expected}
    return dict(reverted) if reverted and not unexpected else None
