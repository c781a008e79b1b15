"""Vulnerable-code indicators against our own code: a scan of this protocol's sources (function
shapes, confirmed by the patch stage's localisation) → on a match, an incident, and with an upgrade
path a pre-emptive patch: generate → verify (regression only: there is no attack against us to
replay) → an upgrade proposal, stored pending for the council like any other."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bulwark.app.intel.publish import MIN_SCORE
from bulwark.chain import ChainClient, Signer
from bulwark.domain import Address, Confidence, Finding, IncidentState, Severity, VulnClass
from bulwark.domain.govern import Policy
from bulwark.govern import propose_upgrade
from bulwark.intel.fingerprint import function_shapes
from bulwark.intel.indicators import Indicator
from bulwark.intel.subscribe import Intel
from bulwark.logs import get_logger
from bulwark.patch import PatchRequest, generate
from bulwark.patch.engine import analyse
from bulwark.store import Store
from bulwark.toolchain.candidate import write_candidate
from bulwark.toolchain.solc import Compiler
from bulwark.verify.engine import VerifyRequest, verify
from bulwark.verify.sources import compile_candidate

__all__ = [
    "CodeMatch",
    "OwnSource",
    "Preemptive",
    "UpgradeTarget",
    "flag_match",
    "preemptive_patch",
    "scan_own_code",
]

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
                out.append(CodeMatch(src, shape.function, shape.fingerprint, ind, localised))
                log.warning(
                    "vulnerable code matched",
                    component=src.component,
                    function=f"{shape.contract}.{shape.function}",
                    fingerprint=shape.fingerprint,
                    localised=localised,
                )
    return out


def flag_match(store: Store, match: CodeMatch, *, protocol: str, contract: Address | None) -> str:
    """Open an incident for a match of our own code (its finding recorded); returns its id."""
    ind = match.indicator
    src = match.source
    finding = Finding(
        detector="intel-vulnerable-code",
        vuln_class=ind.vuln_class or VulnClass.KNOWN_ATTACKER,
        severity=Severity.HIGH,
        confidence=Confidence.HIGH if match.localised else Confidence.MEDIUM,
        title=f"{src.contract}.{match.function} has the shape of code exploited elsewhere",
        protocol=protocol,
        contract=contract,
        tx_hash=None,
        pending=False,
        evidence={
            "fingerprint": match.fingerprint,
            "source": str(src.path),
            "component": src.component,
            "localised": match.localised,
        },
    )
    return store.open_incident(finding).id  # the finding is recorded with it


@dataclass(frozen=True, slots=True)
class UpgradeTarget:
    """Where a pre-emptive patch goes: the component's proxy under a governance policy."""

    component: str
    proxy: Address
    policy: Policy
    deployer: Signer
    upgrader: Address | None = None
    protected: tuple[Address, ...] = ()


@dataclass(frozen=True, slots=True)
class Preemptive:
    incident_id: str
    proposal_id: str | None
    evidence_hash: str | None
    diff: str | None
    tried: tuple[dict[str, Any], ...] = field(default=())
    reason: str = ""


async def preemptive_patch(
    match: CodeMatch,
    target: UpgradeTarget,
    *,
    client: ChainClient,
    rpc_url: str,
    store: Store,
    compiler: Compiler,
    workdir: Path,
    regress: int = 5,
    max_candidates: int = 3,
) -> Preemptive:
    """An incident for the match, then patch → verify (regression, no attack) → upgrade proposal.
    The proposal is stored pending: the council approves it like any other."""
    src = match.source
    iid = flag_match(store, match, protocol=target.policy.protocol, contract=target.proxy)
    request = PatchRequest(paths=[src.path], contract=src.contract, max_patches=max_candidates)
    patches = await asyncio.to_thread(generate, request, compiler)
    patches = [p for p in patches if p.function == match.function]
    if not patches:
        reason = f"no candidate patch fixes {src.contract}.{match.function}"
        store.transition(iid, IncidentState.ESCALATED, reason)
        return Preemptive(iid, None, None, None, reason=reason)
    store.transition(
        iid, IncidentState.PATCHED, "pre-emptive candidates", {"candidates": [p.template for p in patches]}
    )
    tried: list[dict[str, Any]] = []
    for i, p in enumerate(patches):
        path = write_candidate(workdir / iid, i, p.patched_sources, src.path)
        verdict = await verify(
            VerifyRequest(
                rpc_url=rpc_url,
                proxy=target.proxy,
                candidate=path,
                contract=src.contract,
                live_source=src.path,
                live_contract=src.contract,
                attack_txs=(),
                regress=regress,
                protected=target.protected,
                upgrader=target.upgrader,
            ),
            compiler=compiler,
        )
        tried.append({"candidate": i, "template": p.template, **verdict.summary()})
        if not verdict.passed:
            continue
        store.put_artifact(
            f"evidence:{verdict.evidence_hash}",
            "evidence",
            dict(verdict.evidence.document),
            incident_id=iid,
            state="verified",
        )
        store.transition(iid, IncidentState.VERIFIED, "pre-emptive patch verified (regression only)",
                         {"evidence_hash": verdict.evidence_hash, "template": p.template})  # fmt: skip
        compiled = compile_candidate(compiler, path, src.contract)
        proposal = await propose_upgrade(
            client,
            store,
            target.policy,
            verdict,
            component=target.component,
            implementation=compiled.artifact.bytecode,
            deployer=target.deployer,
            severity=Severity.HIGH,
            incident_id=iid,
        )
        return Preemptive(iid, proposal.id, verdict.evidence_hash, p.diff, tuple(tried))
    reason = "no pre-emptive candidate passed verification"
    store.transition(iid, IncidentState.ESCALATED, reason, {"tried": tried})
    return Preemptive(iid, None, None, None, tuple(tried), reason)
