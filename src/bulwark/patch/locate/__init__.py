"""Localisation: static checks (ours + Slither's) and trace evidence, combined and ranked."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import replace
from typing import Any

from bulwark.domain import CallFrame, VulnClass
from bulwark.domain.patch import Localisation
from bulwark.patch.locate.checks import run_checks
from bulwark.patch.locate.trace import evidence
from bulwark.patch.solast import Contract, Program

__all__ = ["combine", "locate_program"]


def _selectors(contract: Contract, program: Program) -> dict[str, str]:
    """selector -> function name, from the compiler's method identifiers."""
    for art in program.result.contracts:
        if art.name == contract.name and art.source_path == contract.path:
            return {"0x" + sel: sig.split("(")[0] for sig, sel in art.method_identifiers.items()}
    return {}


def combine(findings: Iterable[Localisation]) -> list[Localisation]:
    """One finding per (class, contract, function): the strongest, raised a little per agreeing detector."""
    groups: dict[tuple[VulnClass, str, str | None], list[Localisation]] = {}
    for f in findings:
        groups.setdefault((f.vuln_class, f.contract, f.function), []).append(f)
    out = []
    for group in groups.values():
        group.sort(key=lambda f: -f.score)
        best = group[0]
        detectors = list(dict.fromkeys(f.detector for f in group))
        evidence_ = tuple(dict.fromkeys(e for f in group for e in f.evidence))
        score = min(1.0, best.score + 0.05 * (len(detectors) - 1))
        out.append(replace(best, detector="+".join(detectors), score=round(score, 3), evidence=evidence_))
    return sorted(out, key=lambda f: (-f.score, f.contract, f.function or "", f.vuln_class.value))


def locate_program(
    program: Program,
    targets: list[Contract],
    *,
    extra: Iterable[Localisation] = (),
    trace: CallFrame | Mapping[str, Any] | None = None,
) -> list[Localisation]:
    findings = run_checks(program, targets) + list(extra)
    names = {c.name for c in targets}
    findings = [f for f in findings if f.contract in names]
    if trace is not None:
        findings = _with_trace(program, targets, findings, trace)
    return combine(findings)


def _with_trace(
    program: Program,
    targets: list[Contract],
    findings: list[Localisation],
    trace: CallFrame | Mapping[str, Any],
) -> list[Localisation]:
    out = list(findings)
    for contract in targets:
        by_selector = _selectors(contract, program)
        ev = evidence(trace, set(by_selector))
        entered = {by_selector[s] for s in ev.entered}
        reentered = {by_selector[s] for s in ev.reentered}
        outer = {by_selector[s] for s in ev.outer_of_reentry if s in by_selector}
        boosted = []
        for f in out:
            if f.contract != contract.name:
                boosted.append(f)
                continue
            bonus = 0.1 if f.function in entered else 0.0
            notes = []
            if f.function in entered:
                notes.append(f"trace: the attack entered {f.function}")
            if f.vuln_class is VulnClass.REENTRANCY and f.function in (reentered | outer):
                bonus += 0.2
                notes.append(f"trace: {f.function} was on the stack during a re-entry")
            boosted.append(
                replace(f, score=round(min(1.0, f.score + bonus), 3), evidence=(*f.evidence, *notes))
            )
        out = boosted
        have = {(f.vuln_class, f.function) for f in out if f.contract == contract.name}
        for name in sorted(outer | reentered):
            fn = contract.function(name)
            if fn is None or (VulnClass.REENTRANCY, name) in have or not fn.mutates:
                continue
            st = program.text_of(fn.node)
            if st is None:
                continue
            s = fn.node["src"].split(":")
            start, length = int(s[0]), int(s[1])
            out.append(
                Localisation(
                    detector="trace-reentry",
                    vuln_class=VulnClass.REENTRANCY,
                    contract=contract.name,
                    function=name,
                    lines=st.lines(start, start + length)[:1],
                    score=0.7,
                    evidence=(f"trace: {name} took part in a re-entrant call sequence",),
                    path=st.path,
                    start=start,
                    length=length,
                )
            )
    return out
