"""``--protect full`` steps that remedy by state: the parameter path, with the code path
(:class:`CodeSteps`: the product pipeline's steps, as bulwark.lab.full builds them) as its fallback."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bulwark.chain.timelock import is_paused
from bulwark.config.remedy import RemedyConfig
from bulwark.domain import Address, IncidentState, Severity
from bulwark.domain.govern import GovAction, Policy, SmokeCall
from bulwark.domain.remedy import ImpactReport, RemedyKind
from bulwark.execute import execute_proposal
from bulwark.flow import Step, StepContext, StepOutcome
from bulwark.govern import approve_missing, proposals, propose_upgrade
from bulwark.govern.parameters import StoredVerdict, propose_parameters
from bulwark.govern.proposal import load as load_proposal
from bulwark.lab.remedy.records import expected_reverts, patch_record, verify_record
from bulwark.lab.remedy.run import parameter_remedy, resume_component
from bulwark.remedy.engine import choose_remedy, measure_code_impact
from bulwark.scenarios.corpus import Scenario
from bulwark.scenarios.protocol import DemoProtocol
from bulwark.scenarios.remedy import demo_remedy_request
from bulwark.toolchain.solc import Compiler
from bulwark.verify.sources import compile_candidate

__all__ = ["CodeSteps", "ParameterSteps", "StepFn"]

StepFn = Callable[[StepContext], Awaitable[StepOutcome]]


def _no_smoke(_component: str) -> Sequence[SmokeCall]:
    return ()


@dataclass(frozen=True, slots=True)
class CodeSteps:
    """The code-patch path's steps, the fallback when no parameter remedy is taken."""

    patch: StepFn
    verify: StepFn
    approve: StepFn
    upgrade: StepFn
    resume: StepFn
    close: StepFn


@dataclass(kw_only=True, eq=False)  # compared by identity, as the class it replaced
class ParameterSteps:
    """``--protect full`` steps that remedy by state when the policy prefers it.

    Same step names and incident states as the code path (patch → PATCHED, verify → VERIFIED, ...),
    so the flow, its records and its report keep their shape. ``patch`` searches and verifies the
    parameter remedy; when none passes (or the policy prefers code) every step hands over to
    ``code``. Each step is idempotent across a restart (proposals are looked up before one is made).
    """

    protocol: DemoProtocol
    scenario: Scenario
    rpc_url: str
    attack_txs: Sequence[str]
    client: Any
    compiler: Compiler
    policy: Policy
    relayer: Any
    signer_keys: Sequence[str]
    code: CodeSteps
    prefer: str = "smallest"
    regress: int = 12
    forward_txs: int = 12
    config: RemedyConfig | None = None
    smoke: Callable[[str], Sequence[SmokeCall]] = _no_smoke
    severity: Severity = Severity.CRITICAL

    def steps(self) -> list[Step]:
        s = IncidentState
        return [
            Step("patch", s.PATCHED, self.patch),
            Step("verify", s.VERIFIED, self.verify),
            Step("approve", s.APPROVED, self.approve),
            Step("upgrade", s.UPGRADED, self.upgrade),
            Step("resume", s.RESUMED, self.resume),
            Step("close", s.CLOSED, self.close),
        ]

    async def close(self, ctx: StepContext) -> StepOutcome:
        """The code path's check of benign traffic after resumption; under a parameter remedy,
        reverts of the functions its impact report said it blocks (the cost the signers saw)
        are expected, any other revert still fails the incident."""
        out = await self.code.close(ctx)
        if out.ok or not self._parameters(ctx):
            return out
        reverted = expected_reverts(ctx.records["patch"], out.record)
        if reverted is not None:
            return StepOutcome(True, {**out.record, "expected_reverts": reverted})
        return out

    @staticmethod
    def _parameters(ctx: StepContext) -> bool:
        return ctx.records.get("patch", {}).get("remedy") == RemedyKind.PARAMETERS.value

    async def patch(self, ctx: StepContext) -> StepOutcome:
        if self.prefer == "code":
            out = await self.code.patch(ctx)
            return dataclasses.replace(out, record={"remedy": RemedyKind.CODE.value, **out.record})
        result = await parameter_remedy(
            self.protocol,
            self.scenario,
            self.rpc_url,
            self.attack_txs,
            self.compiler,
            config=self.config,
            regress=self.regress,
            forward_txs=self.forward_txs,
        )
        if choose_remedy(self.prefer, result, code_verified=False) is not RemedyKind.PARAMETERS:
            out = await self.code.patch(ctx)
            record = {"remedy": RemedyKind.CODE.value, "parameter_search": result.to_json(), **out.record}
            return dataclasses.replace(out, record=record)
        assert result.evidence_hash is not None
        ctx.store.put_artifact(
            f"evidence:{result.evidence_hash}",
            "evidence",
            dict(result.evidence),
            incident_id=ctx.incident_id,
            state="verified",
        )
        return StepOutcome(True, patch_record(result))

    async def verify(self, ctx: StepContext) -> StepOutcome:
        if not self._parameters(ctx):
            out = await self.code.verify(ctx)
            if out.ok and out.record.get("path"):
                impact = await self._code_impact(out.record)
                record = {**out.record, "impact": impact.to_json(), "impact_text": impact.summary_text()}
                return dataclasses.replace(out, record=record)
            return out
        rec = ctx.records["patch"]
        _, _, document = ctx.store.artifact(f"evidence:{rec['evidence_hash']}")
        return StepOutcome(True, verify_record(rec, document))

    async def _code_impact(self, verified: Mapping[str, Any]) -> ImpactReport:
        compiled = await asyncio.to_thread(
            compile_candidate, self.compiler, Path(verified["path"]), verified["contract"]
        )
        request = demo_remedy_request(
            self.protocol,
            self.scenario,
            self.rpc_url,
            self.attack_txs,
            self.compiler,
            regress=self.regress,
            forward_txs=self.forward_txs,
        )
        return await measure_code_impact(
            request,
            proxy=Address(self.protocol.component(self.scenario.component).proxy),
            init_code=compiled.artifact.bytecode,
            upgrader=Address(self.protocol.timelock.address),
            label=f"upgrade {self.scenario.component} ({verified['contract']})",
        )

    async def _propose_code(self, ctx: StepContext) -> None:
        """The upgrade proposal with the code patch's impact in its description; the code path's
        approve step then finds it (it never proposes twice) and collects the signatures."""
        rec = ctx.records.get("verify", {})
        if not rec.get("impact_text"):
            return
        if any(p.action is GovAction.UPGRADE for p, _ in proposals(ctx.store, ctx.incident_id)):
            return
        compiled = await asyncio.to_thread(
            compile_candidate, self.compiler, Path(rec["path"]), rec["contract"]
        )
        await propose_upgrade(
            self.client,
            ctx.store,
            self.policy,
            StoredVerdict(True, rec["evidence_hash"]),
            component=self.scenario.component,
            implementation=compiled.artifact.bytecode,
            deployer=self.relayer,
            severity=self.severity,
            incident_id=ctx.incident_id,
            note=rec["impact_text"],
        )

    async def approve(self, ctx: StepContext) -> StepOutcome:
        if not self._parameters(ctx):
            await self._propose_code(ctx)
            return await self.code.approve(ctx)

        rec = ctx.records["patch"]
        existing = [p for p, _ in proposals(ctx.store, ctx.incident_id) if p.action is GovAction.PARAMETERS]
        if not existing:
            calls = [(c["component"], bytes.fromhex(c["data"][2:]), c["call"]) for c in rec["calls"]]
            existing = list(
                await propose_parameters(
                    self.client,
                    ctx.store,
                    self.policy,
                    StoredVerdict(True, rec["evidence_hash"]),
                    calls=calls,
                    severity=self.severity,
                    incident_id=ctx.incident_id,
                    note=rec.get("impact_text", ""),
                )
            )
        for p in existing:
            await approve_missing(self.client, ctx.store, p.id, self.signer_keys)
        return StepOutcome(
            True,
            {
                "proposal_id": existing[-1].id,
                "proposal_ids": [p.id for p in existing],
                "evidence_hash": rec["evidence_hash"],
                "threshold": existing[-1].threshold,
            },
        )

    async def upgrade(self, ctx: StepContext) -> StepOutcome:
        """For a parameter remedy: the setter calls, executed through the Safe and the timelock."""
        if not self._parameters(ctx):
            return await self.code.upgrade(ctx)

        txs: list[str] = []
        checks: list[str] = []
        ok = True
        for pid in ctx.records["approve"]["proposal_ids"]:
            p, _ = load_proposal(ctx.store, pid)
            result = await execute_proposal(
                self.client,
                ctx.store,
                pid,
                sender=self.relayer,
                smoke=self.smoke(p.component),
                time_travel=True,
            )
            txs += result.tx_hashes
            checks += [c.name for c in result.checks]
            ok = ok and result.ok
        return StepOutcome(
            ok,
            {"txs": txs, "checks": checks, "remedy": RemedyKind.PARAMETERS.value},
            reason="post-checks of the parameter change failed",
            failure_state=IncidentState.FAILED,
        )

    async def resume(self, ctx: StepContext) -> StepOutcome:
        if not self._parameters(ctx):
            return await self.code.resume(ctx)

        last = ctx.records["approve"]["proposal_id"]
        existing = {
            p.component: p for p, _ in proposals(ctx.store, ctx.incident_id) if p.action is GovAction.UNPAUSE
        }
        done: list[dict[str, Any]] = []

        proxies = {c: self.protocol.component(c).proxy for c in self.protocol.components}
        for component, proxy in proxies.items():
            if component not in existing and not await is_paused(self.client, proxy):
                continue
            proposal, result = await resume_component(
                self.client,
                ctx.store,
                self.policy,
                component=component,
                after=last,
                signer_keys=self.signer_keys,
                relayer=self.relayer,
                smoke=self.smoke(component),
                severity=self.severity,
                existing=existing.get(component),
                time_travel=True,
            )
            done.append({"component": component, "proposal_id": proposal.id, "txs": list(result.tx_hashes)})
            if not result.ok:
                return StepOutcome(
                    False,
                    {"unpaused": done},
                    reason=f"unpause of {component} failed its checks",
                    failure_state=IncidentState.FAILED,
                )
        still = [c for c, proxy in proxies.items() if await is_paused(self.client, proxy)]
        if still:
            return StepOutcome(
                False,
                {"unpaused": done},
                reason=f"still paused: {', '.join(still)}",
                failure_state=IncidentState.FAILED,
            )
        return StepOutcome(True, {"unpaused": done})
