"""A parameter remedy's verdict: the same proof as a code patch, from the same kinds of results.

The fork work (attack replay with the remedy applied, benign history on two forks, invariants)
is done by the composition root with the verification stage's building blocks; this module
turns the results into reasons, an evidence document whose canonical JSON is hashed, and a
:class:`~bulwark.domain.verify.Verdict` governance accepts like any other.
"""

from __future__ import annotations

from collections.abc import Sequence

from bulwark.domain.canonical import to_jsonable
from bulwark.domain.evidence import hash_document
from bulwark.domain.remedy import ImpactReport, ParameterRemedy
from bulwark.domain.verify import (
    AttackReplay,
    Check,
    Evidence,
    InvariantResult,
    Reason,
    RegressionReport,
    Verdict,
)

__all__ = ["EVIDENCE_FORMAT", "attack_reasons", "remedy_verdict"]

EVIDENCE_FORMAT = "bulwark.remedy.evidence/1"


def attack_reasons(attack: AttackReplay) -> list[Reason]:
    """Why the attack still works under the remedy (empty when it was stopped)."""
    if attack.blocked:
        return []
    lost = ", ".join(f"{c.asset} {c.delta:+d}" for c in attack.victim_losses) or "nothing"
    gained = ", ".join(f"{c.asset} {c.delta:+d}" for c in attack.attacker_gains) or "nothing"
    detail = f"victims lost {lost}; attacker gained {gained}"
    if attack.prices:
        valued = (
            f"valued at the oracle, victims {attack.victim_value_delta:+d} and attackers "
            f"{attack.attacker_value_delta:+d} (wei of USD)"
        )
        unpriced = attack.victim_losses or attack.attacker_gains
        detail = f"{valued}; unpriced assets: {detail}" if unpriced else valued
    broken = ", ".join(i.name for i in attack.invariants if not i.holds)
    if broken:
        detail += f"; invariants broken: {broken}"
    return [Reason(Check.ATTACK, "attack-not-blocked", "attack", f"the attack still works: {detail}")]


def _regression_reasons(report: RegressionReport) -> tuple[list[Reason], list[Reason]]:
    """Benign transactions that now revert are listed as non-fatal notes: a parameter remedy is
    expected to refuse some calls (that is its cost, shown in the impact report); other
    differences are notes too."""
    notes: list[Reason] = []
    for d in report.differences:
        if d.aspect == "status" and d.original == "success":
            notes.append(
                Reason(
                    Check.REGRESSION,
                    "benign-tx-blocked",
                    d.tx_hash,
                    f"benign transaction {d.tx_hash} succeeds on the original protocol and reverts "
                    f"under the remedy ({d.patched})",
                    fatal=False,
                )
            )
    for tx in dict.fromkeys(d.tx_hash for d in report.differences if d.aspect != "status"):
        aspects = ", ".join(sorted({d.aspect for d in report.differences if d.tx_hash == tx}))
        notes.append(Reason(Check.REGRESSION, "benign-tx-differs", tx, f"{tx} differs in {aspects}", False))
    return [], notes


def remedy_verdict(
    remedy: ParameterRemedy,
    *,
    chain_id: int,
    admin: str,
    attack: AttackReplay | None,
    attack_txs: Sequence[str],
    regression: RegressionReport,
    invariants: Sequence[InvariantResult] = (),
    impact: ImpactReport | None = None,
    applied: bool = True,
    max_blocked: int | None = None,
) -> Verdict:
    """Pass when the calls apply as the admin, the attack is stopped, every invariant holds and
    (with ``max_blocked``) no more benign transactions are refused than allowed."""
    reasons: list[Reason] = []
    if not applied:
        reasons.append(
            Reason(
                Check.SAFETY,
                "remedy-call-reverts",
                remedy.label,
                f"the admin {admin} cannot make the remedy's calls: they revert on the fork",
            )
        )
    if attack is None:
        reasons.append(Reason(Check.ATTACK, "attack-not-replayed", "attack", "the attack was not replayed"))
    else:
        reasons += attack_reasons(attack)
    for inv in invariants:
        if not inv.holds:
            reasons.append(
                Reason(
                    Check.INVARIANT,
                    "invariant-broken",
                    inv.name,
                    f"invariant {inv.name} breaks: {inv.counterexample}",
                )
            )
    fatal_reg, notes = _regression_reasons(regression)
    reasons += fatal_reg
    if max_blocked is not None and impact is not None and impact.benign_failed > max_blocked:
        reasons.append(
            Reason(
                Check.REGRESSION,
                "too-many-benign-blocked",
                remedy.label,
                f"{impact.benign_failed} benign transactions would fail, the policy allows {max_blocked}",
            )
        )
    passed = not any(r.fatal for r in reasons)
    document = {
        "format": EVIDENCE_FORMAT,
        "pass": passed,
        "chain": {"chain_id": chain_id, "admin": admin.lower()},
        "remedy": {
            "kind": "parameters",
            "strategy": remedy.strategy,
            "rationale": remedy.rationale,
            "calls": [
                {"component": c.component, "target": c.target.lower(), "call": c.label, "data": c.data}
                for c in remedy.calls
            ],
        },
        "attack": to_jsonable(attack),
        "attack_txs": sorted(h.lower() for h in attack_txs),
        "regression": to_jsonable(regression),
        "invariants": to_jsonable(list(invariants)),
        "impact": impact.to_json() if impact is not None else None,
        "reasons": to_jsonable(reasons),
        "notes": to_jsonable(notes),
    }
    digest = hash_document(document)
    return Verdict(
        passed=passed,
        reasons=tuple(reasons),
        layout_ok=True,  # no code changes: storage layout and upgrade safety are untouched
        safety_ok=applied,
        attack_blocked=attack.blocked if attack is not None else None,
        regressions=len(regression.regressed_txs),
        gas_overhead_pct=0.0,
        evidence=Evidence(document=document, hash=digest),
        notes=tuple(notes),
    )
