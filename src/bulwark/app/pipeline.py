"""The incident pipeline of ``bulwark watch``, built from ``bulwark.yaml`` for a protocol Bulwark
did not write.

After containment, the finding drives every step; nothing here knows a scenario:

    contain  a pause that landed is recorded; one that did not is sent again (app.resume.ContainStep)
    patch    the contract the finding names -> its implementation's source in the team's project
             (``protocols.<p>.source`` + ``contracts.<c>.implementation``), ranked candidates,
             the attacked function's first
    verify   each candidate on a fork: the captured attack must fail, recent traffic behave the same,
             the storage layout stay compatible; the first that passes is the verdict
    approve  the upgrade proposal (Safe -> timelock, the evidence hash as salt) is stored and
             announced, then the flow WAITS until the owners' signatures meet the threshold
             (``bulwark approve``, the dashboard, or ``approve --signature`` from elsewhere); only a
             configuration with a ``signers`` section (the demo's) has the step sign itself
    upgrade  schedule, WAIT out the timelock delay, execute, post-checks
    resume   an unpause proposal per paused contract, the same way (signatures, delay, execute)
    close    nothing is left paused: the incident is closed

An incident whose finding is pre-emptive (intel matched our own code to code exploited elsewhere:
:func:`is_preemptive`) has no contain step (DETECTED -> PATCHED), nothing to unpause, and is verified
without an attack (regression and layout only). Any other incident without a captured attack fails
verification closed: a fix is never proposed for an attack it was not shown to stop.

Automation only submits what the owners signed (any funded key may; here the sentinel's relayer
key). It never signs a proposal unless the configuration hands it owner keys (``signers``, which a
production configuration does not have). Waiting steps are re-entered by the watch's incident
driver, or by the lab, which plays the world's part (the passing of a timelock delay).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bulwark.app.attack import attack_trace, attack_txs, attacked_functions
from bulwark.app.sources import check_sources
from bulwark.chain import ChainClient, Signer
from bulwark.chain.bytecode import create_address
from bulwark.chain.eip1967 import admin_of
from bulwark.chain.timelock import is_paused
from bulwark.config import BulwarkConfig
from bulwark.config.models import ContractConfig, ProtocolConfig
from bulwark.domain import Address, CallFrame, IncidentState, Severity, TxHash
from bulwark.domain.govern import GovAction, Policy, ProposalState, SmokeCall
from bulwark.domain.verify import Evidence, Verdict
from bulwark.errors import BulwarkError, ChainError, ConfigError, ProposalStateError
from bulwark.execute import execute_proposal
from bulwark.flow import Step, StepContext, StepOutcome
from bulwark.govern import load, proposals, propose_unpause, propose_upgrade
from bulwark.govern.approvals import approve_missing, status
from bulwark.logs import get_logger
from bulwark.patch import PatchRequest, generate
from bulwark.store import Store
from bulwark.toolchain.candidate import write_candidate
from bulwark.toolchain.project import CompileInput, load_project
from bulwark.toolchain.solc import Compiler
from bulwark.verify.engine import VerifyRequest, verify
from bulwark.verify.sources import compile_candidate

log = get_logger(__name__)

__all__ = [
    "PREEMPTIVE",
    "PREEMPTIVE_DETECTOR",
    "PipelineOptions",
    "ProtocolPipeline",
    "component_of",
    "is_preemptive",
    "verified_outcome",
]

S = IncidentState
_CONFIDENCE = {"high": 0, "medium": 1, "low": 2}
PREEMPTIVE = "preemptive"  # the evidence key of a finding about our own code, not about an attack
PREEMPTIVE_DETECTOR = "intel-vulnerable-code"  # the only detector whose findings may say so


def is_preemptive(finding: Mapping[str, Any]) -> bool:
    """Does the finding say it is pre-emptive (no attack happened: intel matched our own code)?
    Only the scan of our own code may say so: any other incident must show its attack."""
    evidence = finding.get("evidence")
    return (
        finding.get("detector") == PREEMPTIVE_DETECTOR
        and isinstance(evidence, Mapping)
        and evidence.get(PREEMPTIVE) is True
    )


@dataclass(frozen=True, slots=True)
class PipelineOptions:
    workdir: Path  # candidates are written here, never into the team's project
    max_candidates: int = 3
    regress: int = 20  # recent mined transactions replayed on both forks


@dataclass(frozen=True, slots=True)
class _Verdict:
    """A stored verdict as govern reads it (only its evidence hash is trusted: re-hashed there)."""

    passed: bool
    evidence_hash: str
    evidence: Evidence


def component_of(protocol: ProtocolConfig, contract: str | None) -> str | None:
    """The configured name of the protocol contract at ``contract`` (a proxy's address)."""
    if contract is None:
        return None
    for name, c in protocol.contracts.items():
        if str(c.address).lower() == contract.lower():
            return name
    return None


def verified_outcome(
    ctx: StepContext, index: int, candidate: Mapping[str, Any], verdict: Verdict, tried: list[dict[str, Any]]
) -> StepOutcome:
    """The verify step's outcome for the first candidate that passed: its evidence document stored
    (a proposal must cite it), the candidate and every verdict tried recorded."""
    ctx.store.put_artifact(
        f"evidence:{verdict.evidence_hash}",
        "evidence",
        dict(verdict.evidence.document),
        incident_id=ctx.incident_id,
        state="verified",
    )
    record = {
        "candidate": index,
        "path": candidate["path"],
        "contract": candidate["contract"],
        "caller_changes": candidate.get("caller_changes", []),
        "tried": tried,
    }
    return StepOutcome(True, {**record, **verdict.summary()})


class ProtocolPipeline:
    """The steps of one watch incident on ``protocol``, as closures over the configuration."""

    def __init__(
        self,
        config: BulwarkConfig,
        protocol: str,
        client: ChainClient,
        relayer: Signer,
        options: PipelineOptions,
        *,
        rpc_url: str,
        contain: Callable[[StepContext], Awaitable[StepOutcome]] | None = None,
    ) -> None:
        self.config = config
        self.name = protocol
        self.protocol = config.protocols[protocol]
        self.client = client
        self.relayer = relayer
        self.options = options
        self.rpc_url = rpc_url
        self._contain = contain

    def missing(self) -> list[str]:
        """What the configuration lacks for this pipeline (empty: it can carry an incident)."""
        out = []
        if self.protocol.source is None:
            out.append(f"protocols.{self.name}.source (the project holding the sources)")
        if not any(c.implementation is not None for c in self.protocol.contracts.values()):
            out.append(f"an implementation (file, contract) for a contract of {self.name}")
        if self.name not in self.config.policies:
            out.append(f"policies.{self.name} (the Safe, the timelock and the signing rules)")
        return out

    def steps(self) -> list[Step]:
        out = [Step("contain", S.CONTAINED, self._contain)] if self._contain is not None else []
        return [
            *out,
            Step("patch", S.PATCHED, self.patch),
            Step("verify", S.VERIFIED, self.verify),
            Step("approve", S.APPROVED, self.approve),
            Step("upgrade", S.UPGRADED, self.upgrade),
            Step("resume", S.RESUMED, self.resume),
            Step("close", S.CLOSED, self.close),
        ]

    # -- what the finding points at -----------------------------------------------------------------

    def _targets(self, ctx: StepContext, trace: CallFrame | None) -> list[str]:
        """The configured contracts the incident's findings name: first those whose finding names
        the flaw (a class other than a broken invariant, a symptom), the most confident first; then
        the others the attack's call tree reached, in call order (a finding may name the victim)."""
        findings = sorted(
            ctx.store.findings(ctx.incident_id) or [dict(ctx.finding)],
            key=lambda f: (
                f.get("class") in ("invariant-break", None),
                _CONFIDENCE.get(str(f.get("confidence")), 3),
            ),
        )
        names = [component_of(self.protocol, f.get("contract")) for f in findings]
        reached = [component_of(self.protocol, f.to) for _, f in trace.walk()] if trace is not None else []
        out = list(dict.fromkeys(n for n in [*names, *reached] if n is not None))
        if not out:
            raise ConfigError(
                f"the finding names no contract of protocol {self.name} ({ctx.finding.get('contract')}): "
                f"nothing to patch; add it under protocols.{self.name}.contracts"
            )
        return out

    def _project(self, contract: str, cc: ContractConfig) -> CompileInput:
        if self.protocol.source is None or cc.implementation is None:
            raise ConfigError(
                f"no source for {contract}: set protocols.{self.name}.source (the project) and "
                f"contracts.{contract}.implementation (file, contract) — `bulwark init` writes both"
            )
        return load_project(self.config.resolve_path(self.protocol.source))

    def _policy(self) -> tuple[Policy, tuple[SmokeCall, ...]]:
        pcfg = self.config.policies.get(self.name)
        if pcfg is None:
            raise ConfigError(
                f"no governance policy for {self.name}: add policies.{self.name} (`bulwark init`)"
            )
        contracts = {n: Address(str(c.address)) for n, c in self.protocol.contracts.items()}
        policy = pcfg.to_policy(self.name, contracts)
        return policy, tuple(pcfg.smoke_calls(dict(policy.proxies)))

    # -- the steps ------------------------------------------------------------------------------

    async def patch(self, ctx: StepContext) -> StepOutcome:
        """Candidates for the contracts of :meth:`_targets` whose source is the deployed code, until
        a contract a finding names (or the flaw's class it names) yields one on the attacked path;
        those covering the attacked path first, then the findings' classes, then the engine's
        confidence."""
        attack = await attack_txs(self.client, ctx.store, ctx.incident_id)
        trace = await attack_trace(self.client, self.rpc_url, attack)
        classes = {
            (component_of(self.protocol, f.get("contract")), f.get("class"))
            for f in ctx.store.findings(ctx.incident_id)
        }
        candidates: list[dict[str, Any]] = []
        problems: list[str] = []
        named = {component_of(self.protocol, f.get("contract")) for f in ctx.store.findings(ctx.incident_id)}
        for contract in self._targets(ctx, trace):
            if any(
                c["covers_attack"] and (c["named"] or (c["component"], c["class"]) in classes)
                for c in candidates
            ):
                break  # a contract a finding names (or the flaw it names) patched on the attacked path
            cc = self.protocol.contracts[contract]
            if cc.implementation is None:
                problems.append(f"no implementation (file, contract) configured for {contract}")
                continue
            # Edit only what is deployed: the source must compile to the implementation's code.
            checks = await check_sources(self.config, only=(self.name, contract))
            if not checks or not all(c.ok for c in checks):
                problems += [c.line() for c in checks if not c.ok] or [f"no source to check for {contract}"]
                continue
            project = self._project(contract, cc)
            with project.compiler() as compiler:
                request = PatchRequest(
                    paths=[project.root / cc.implementation.file],
                    contract=cc.implementation.contract,
                    max_patches=self.options.max_candidates,
                    trace=trace,
                    remappings=project.remappings,
                    solc_version=project.solc_version,
                )
                try:
                    patches = await asyncio.to_thread(generate, request, compiler)
                except Exception as exc:  # one target's engine failure must not stop the others
                    log.exception("patch generation failed", contract=contract)
                    problems.append(f"patch generation failed for {contract}: {exc!r}")
                    continue
            abi = cc.load_abi(self.config.resolve_path(Path(".")))
            attacked = attacked_functions(str(cc.address), abi, ctx.finding.get("function"), trace)
            if is_preemptive(ctx.finding):  # the matched function, by name (the ABI may be absent)
                attacked.add(str(ctx.finding["evidence"].get("function")))
            for p in patches:
                candidates.append(
                    {
                        "component": contract,
                        "contract": cc.implementation.contract,
                        "file": str(cc.implementation.file),
                        "class": p.vuln_class.value,
                        "template": p.template,
                        "function": p.function,
                        "covers_attack": p.function in attacked,
                        "score": p.score,
                        "named": contract in named,
                        "diff": p.diff,
                        "rationale": p.rationale,
                        # how callers must now call (a commit before a reveal): signers must know
                        "caller_changes": [c.to_json() for c in p.caller_changes],
                        "sources": p.patched_sources,
                    }
                )
        if not candidates:
            reason = "; ".join(problems) or "no candidate patch was found"
            return StepOutcome(False, {"source": problems}, reason=reason)
        # Stable sort: the targets' order within each rank.
        candidates.sort(
            key=lambda c: (not c["covers_attack"], (c["component"], c["class"]) not in classes, -c["score"])
        )
        workdir = self.options.workdir / ctx.incident_id
        for i, cand in enumerate(candidates):
            project = self._project(cand["component"], self.protocol.contracts[cand["component"]])
            original = project.root / cand.pop("file")
            path = write_candidate(
                workdir, i, cand.pop("sources"), original, root=project.root, tree=project.src
            )
            cand["path"] = str(path)
        first = candidates[0]
        return StepOutcome(
            True,
            {
                "component": first["component"],
                "candidates": candidates,
                "diff": first["diff"],
                "class": first["class"],
                "template": first["template"],
                "attack_trace": trace is not None,  # localisation saw the attack's own call tree
                "attack_txs": list(attack),  # what verify replays: the same transactions
            },
        )

    async def verify(self, ctx: StepContext) -> StepOutcome:
        attack = tuple(TxHash(h) for h in ctx.records["patch"]["attack_txs"])
        if not attack and not is_preemptive(ctx.finding):
            return StepOutcome(
                False,
                {"tried": []},
                reason="no attack transaction was captured or flagged for this incident, so no "
                "candidate can be shown to stop it: the protocol stays paused; propose a fix by hand "
                "(`bulwark propose`)",
            )
        policy, _ = self._policy()
        tried: list[dict[str, Any]] = []
        for i, cand in enumerate(ctx.records["patch"]["candidates"]):
            contract = cand.get("component") or ctx.records["patch"]["component"]
            cc = self.protocol.contracts[contract]
            project = self._project(contract, cc)
            admin = await admin_of(self.client, Address(str(cc.address)))
            try:
                with project.compiler() as compiler:
                    verdict = await self._verify_one(
                        cand, cc, project, compiler, attack, admin or policy.timelock
                    )
            except BulwarkError as exc:  # this candidate could not be installed or replayed
                tried.append({"candidate": i, "passed": False, "reasons": [exc.user_message]})
                continue
            tried.append({"candidate": i, **verdict.summary()})
            if verdict.passed:
                out = verified_outcome(ctx, i, cand, verdict, tried)
                return StepOutcome(True, {"component": contract, **out.record})
        reasons = "; ".join(f"candidate {t['candidate']}: {', '.join(t['reasons'])}" for t in tried)
        return StepOutcome(
            False,
            {"tried": tried},
            reason=f"no candidate passed verification ({reasons}): the protocol stays paused",
        )

    async def _verify_one(
        self,
        cand: Mapping[str, Any],
        cc: ContractConfig,
        project: CompileInput,
        compiler: Compiler,
        attack: tuple[TxHash, ...],
        upgrader: Address,
    ) -> Verdict:
        assert cc.implementation is not None
        request = VerifyRequest(
            rpc_url=self.rpc_url,
            proxy=Address(str(cc.address)),
            candidate=Path(cand["path"]),
            contract=cand["contract"],
            live_source=project.root / cc.implementation.file,
            live_contract=cc.implementation.contract,
            attack_txs=attack,
            regress=self.options.regress,
            protected=tuple(Address(str(c.address)) for c in self.protocol.contracts.values()),
            assets=tuple(
                Address(str(a.address)) for a in self.protocol.assets.values() if a.address != "native"
            ),
            upgrader=upgrader,  # a Transparent proxy's ProxyAdmin, else the timelock (UUPS)
            # Our own transactions (the relayer's, the sentinels' pause) are not the attack's.
            defenders=(self.relayer.address, *self._policy()[0].sentinels),
            # Holdings valued at the pre-attack price: posting collateral to borrow is no loss.
            price_oracle=self._price_oracle(),
        )
        return await verify(request, compiler=compiler)

    def _price_oracle(self) -> Address | None:
        """The protocol's own oracle (``kind: oracle``) when its ABI answers ``price(address)``."""
        for c in self.protocol.contracts.values():
            if c.kind != "oracle":
                continue
            abi = c.load_abi(self.config.resolve_path(Path(".")))
            if any(
                e.get("type") == "function"
                and e.get("name") == "price"
                and [i.get("type") for i in e.get("inputs", [])] == ["address"]
                for e in abi or ()
            ):
                return Address(str(c.address))
        return None

    @staticmethod
    def _diff(ctx: StepContext) -> str:
        """The verified candidate's diff (not necessarily the first candidate's)."""
        cands = ctx.records["patch"]["candidates"]
        index = int(ctx.records["verify"].get("candidate", 0))
        return str(cands[index]["diff"] if index < len(cands) else ctx.records["patch"]["diff"])

    async def _deploy_once(self, ctx: StepContext, creation: bytes) -> Address:
        """Deploy the verified candidate exactly once across crashes: the address is fixed by the
        relayer's nonce and recorded before the transaction is sent."""
        key = f"{ctx.incident_id}/deploy"
        try:
            _kind, _state, intent = ctx.store.artifact(key)
        except BulwarkError:
            intent = None
        if intent is not None:
            address = Address(str(intent["address"]))
            if await self.client.get_code(address):
                return address
            if await self.client.get_nonce(self.relayer.address, "latest") > int(intent["nonce"]):
                raise ChainError(
                    f"the candidate's deployment (nonce {intent['nonce']}) left no code at {address}"
                )
        nonce = await self.client.get_nonce(self.relayer.address, "pending")
        address = Address(create_address(self.relayer.address, nonce))
        ctx.store.put_artifact(
            key, "deploy", {"nonce": nonce, "address": address}, incident_id=ctx.incident_id
        )
        deployed = await self.client.deploy((), creation, sender=self.relayer)
        if deployed.lower() != address.lower():
            raise ChainError(
                f"the candidate landed at {deployed}, not {address}: another transaction used the nonce"
            )
        return address

    async def _signed(
        self, store: Store, proposal_id: str, what: str, shown: Mapping[str, Any] | None = None
    ) -> StepOutcome | None:
        """None once the owners' signatures meet the threshold; else why the step waits (or fails).
        Configured signers (``signers.<protocol>``) sign first; a production configuration has none."""
        keys = [s.private_key() for s in self.config.signers.get(self.name, ())]
        if keys:
            await approve_missing(self.client, store, proposal_id, keys)
        st = status(store, proposal_id)
        if st.rejected_by:
            return StepOutcome(
                False,
                {"proposal_id": proposal_id},
                reason=f"{what} {proposal_id} was rejected by {', '.join(st.rejected_by)}: "
                "the protocol stays paused",
            )
        if len(st.signed) < st.threshold:
            return StepOutcome.wait(
                f"{what} {proposal_id}: {len(st.signed)} of {st.threshold} signatures; owners sign with "
                f"`bulwark approve {proposal_id}`",
                {
                    "proposal_id": proposal_id,
                    "signed": len(st.signed),
                    "threshold": st.threshold,
                    **(shown or {}),
                },
            )
        return None

    async def approve(self, ctx: StepContext) -> StepOutcome:
        policy, _ = self._policy()
        existing = [p for p, _ in proposals(ctx.store, ctx.incident_id) if p.action is GovAction.UPGRADE]
        rec = ctx.records["verify"]
        component = rec.get("component") or ctx.records["patch"]["component"]
        if existing:  # a restart after proposing: never deploy or propose twice
            proposal = existing[0]
        else:
            _, _, document = ctx.store.artifact(f"evidence:{rec['evidence_hash']}")
            verdict = _Verdict(True, rec["evidence_hash"], Evidence(document, rec["evidence_hash"]))
            project = self._project(component, self.protocol.contracts[component])
            with project.compiler() as compiler:
                compiled = compile_candidate(compiler, Path(rec["path"]), rec["contract"])
            implementation = await self._deploy_once(ctx, compiled.artifact.bytecode)
            proxy = Address(str(self.protocol.contracts[component].address))
            proposal = await propose_upgrade(
                self.client,
                ctx.store,
                policy,
                verdict,
                component=component,
                implementation=implementation,
                # No attack is under way for a pre-emptive fix: the ordinary upgrade rule applies.
                severity=Severity.HIGH if is_preemptive(ctx.finding) else Severity.CRITICAL,
                incident_id=ctx.incident_id,
                proxy_admin=await admin_of(self.client, proxy),
                note=f"diff:\n{self._diff(ctx)}",
            )
        verdict_line = (
            f"passed: attack blocked {rec.get('attack_blocked')}, layout ok {rec.get('layout_ok')}, "
            f"{rec.get('regressions')} regressions, gas overhead {rec.get('gas_overhead_pct')}%"
        )
        shown = {
            "evidence_hash": proposal.evidence_hash,
            "diff": self._diff(ctx),
            "verdict": verdict_line,
        }
        waiting = await self._signed(ctx.store, proposal.id, "upgrade", shown)
        if waiting is not None:
            return waiting
        _, state = load(ctx.store, proposal.id)
        return StepOutcome(
            True,
            {
                "proposal_id": proposal.id,
                "implementation": proposal.implementation,
                "evidence_hash": proposal.evidence_hash,
                "signed": len(status(ctx.store, proposal.id).signed),
                "threshold": proposal.threshold,
                "state": state.value,
            },
        )

    async def _execute(
        self, ctx: StepContext, proposal_id: str, smoke: Sequence[SmokeCall]
    ) -> StepOutcome | None:
        """Execute (None when done); waits while the timelock delay runs."""
        try:
            await execute_proposal(
                self.client, ctx.store, proposal_id, sender=self.relayer, smoke=smoke, wait=False
            )
        except ProposalStateError as exc:
            _, state = load(ctx.store, proposal_id)
            if state is ProposalState.SCHEDULED:
                return StepOutcome.wait(exc.user_message, {"proposal_id": proposal_id})
            raise
        return None

    async def upgrade(self, ctx: StepContext) -> StepOutcome:
        _, smoke = self._policy()
        pid = ctx.records["approve"]["proposal_id"]
        try:
            waiting = await self._execute(ctx, pid, smoke)
        except BulwarkError as exc:
            return StepOutcome(False, {"proposal_id": pid}, reason=exc.user_message, failure_state=S.FAILED)
        if waiting is not None:
            return waiting
        return StepOutcome(True, {"proposal_id": pid})

    async def _paused(self, proxy: Address) -> bool:
        try:
            return await is_paused(self.client, proxy)
        except ChainError:  # no paused(): nothing to unpause there
            return False

    async def resume(self, ctx: StepContext) -> StepOutcome:
        policy, smoke = self._policy()
        upgrade_id = ctx.records["approve"]["proposal_id"]
        existing = {
            p.component: p for p, _ in proposals(ctx.store, ctx.incident_id) if p.action is GovAction.UNPAUSE
        }
        done: list[dict[str, Any]] = []
        for component, proxy in policy.proxies.items():
            if component not in existing and not await self._paused(proxy):
                continue
            proposal = existing.get(component) or await propose_unpause(
                self.client,
                ctx.store,
                policy,
                after=upgrade_id,
                severity=Severity.CRITICAL,
                component=component,
            )
            _, state = load(ctx.store, proposal.id)
            if state is not ProposalState.EXECUTED:
                waiting = await self._signed(ctx.store, proposal.id, f"unpause of {component}")
                if waiting is not None:
                    return waiting
                try:
                    later = await self._execute(ctx, proposal.id, smoke)
                except BulwarkError as exc:
                    return StepOutcome(
                        False, {"unpaused": done}, reason=exc.user_message, failure_state=S.FAILED
                    )
                if later is not None:
                    return later
            done.append({"component": component, "proposal_id": proposal.id})
        still = [c for c, proxy in policy.proxies.items() if await self._paused(proxy)]
        if still:
            return StepOutcome(
                False, {"unpaused": done}, reason=f"still paused: {', '.join(still)}", failure_state=S.FAILED
            )
        return StepOutcome(True, {"unpaused": done})

    async def close(self, ctx: StepContext) -> StepOutcome:
        policy, _ = self._policy()
        still = [c for c, proxy in policy.proxies.items() if await self._paused(proxy)]
        if still:
            return StepOutcome(False, reason=f"still paused: {', '.join(still)}", failure_state=S.FAILED)
        return StepOutcome(True, {"resumed": sorted(policy.proxies)})
