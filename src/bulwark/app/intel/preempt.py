"""Vulnerable-code indicators against our own code: a scan of this protocol's sources (function
shapes, confirmed by the patch stage's localisation) → on a match, an incident whose finding says it
is pre-emptive. With an upgrade path configured, the incident pipeline (:mod:`bulwark.app.pipeline`)
carries it like any other, without containment: patch (the matched function first) → verify
(regression and layout only: there is no attack against us to replay) → an upgrade proposal the
owners sign."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from bulwark.app.intel.publish import MIN_SCORE
from bulwark.app.pipeline import PREEMPTIVE, PREEMPTIVE_DETECTOR
from bulwark.domain import Address, Confidence, Finding, Selector, Severity, VulnClass
from bulwark.intel.fingerprint import function_at, function_shapes
from bulwark.intel.indicators import Indicator
from bulwark.intel.subscribe import Intel
from bulwark.logs import get_logger
from bulwark.patch import PatchRequest
from bulwark.patch.engine import analyse
from bulwark.store import Store
from bulwark.toolchain.solc import Compiler

__all__ = ["CodeMatch", "OwnSource", "flag_match", "scan_own_code"]

log = get_logger(__name__)


@dataclass(frozen=True, slots=True)
class OwnSource:
    """One of this protocol's contracts: the component it implements, and its source."""

    component: str
    path: Path
    contract: str


@dataclass(frozen=True, slots=True)
class CodeMatch:
    source: OwnSource
    function: str
    fingerprint: str
    indicator: Indicator
    localised: bool  # the patch stage's localisation also blames this function
    selector: str | None = None  # its 4-byte selector (None: internal, or a constructor)


def scan_own_code(
    sources: Sequence[OwnSource], intel: Intel, compiler: Compiler, *, use_slither: bool = False
) -> list[CodeMatch]:
    """Functions of our own contracts whose AST shape matches a published vulnerable-code
    fingerprint, each checked against the patch stage's localisation (its own checks; Slither's
    too when asked: the shape is the evidence, the localisation a second opinion)."""
    wanted = {i.value.lower(): i for i in intel.vulnerable_code}
    if not wanted:
        return []
    out: list[CodeMatch] = []
    for src in sources:
        request = PatchRequest(paths=[src.path], contract=src.contract, use_slither=use_slither)
        analysis = analyse(request, compiler)
        blamed = {(f.contract, f.function) for f in analysis.findings if f.score >= MIN_SCORE}
        for unit, compiled in analysis.result.sources.items():
            for shape in function_shapes(unit, compiled.ast):
                ind = wanted.get(shape.fingerprint.lower())
                if ind is None or shape.contract != src.contract:
                    continue
                localised = (shape.contract, shape.function) in blamed
                node = function_at(compiled.ast, shape.start, shape.length) or {}
                sel = node.get("functionSelector")
                out.append(CodeMatch(src, shape.function, shape.fingerprint, ind, localised,
                                     f"0x{sel}" if sel else None))  # fmt: skip
                log.warning(
                    "vulnerable code matched",
                    component=src.component,
                    function=f"{shape.contract}.{shape.function}",
                    fingerprint=shape.fingerprint,
                    localised=localised,
                )
    return out


def flag_match(store: Store, match: CodeMatch, *, protocol: str, contract: Address | None) -> str:
    """Open an incident for a match of our own code (its finding recorded); returns its id. The
    finding names the proxy and the matched function, and says it is pre-emptive: the pipeline
    carries it without containment and verifies it without an attack."""
    ind = match.indicator
    src = match.source
    finding = Finding(
        detector=PREEMPTIVE_DETECTOR,
        vuln_class=ind.vuln_class or VulnClass.KNOWN_ATTACKER,
        severity=Severity.HIGH,
        confidence=Confidence.HIGH if match.localised else Confidence.MEDIUM,
        title=f"{src.contract}.{match.function} has the shape of code exploited elsewhere",
        protocol=protocol,
        contract=contract,
        tx_hash=None,
        pending=False,
        function=Selector(match.selector) if match.selector else None,
        evidence={
            PREEMPTIVE: True,
            "fingerprint": match.fingerprint,
            "source": str(src.path),
            "component": src.component,
            "function": match.function,
            "localised": match.localised,
        },
    )
    return store.open_incident(finding).id  # the finding is recorded with it
