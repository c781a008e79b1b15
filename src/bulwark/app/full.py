"""``--protect full``: the whole incident on one chain, through the incident flow.

Containment (:mod:`bulwark.app.contain`) opens the incident and pauses the protocol before the
attack lands; then :class:`bulwark.flow.IncidentFlow` runs the remaining steps, each recorded
before the next acts on it:

    patch    ranked candidate patches of the vulnerable implementation (bulwark.patch)
    verify   the first candidate that verification passes on a fork (bulwark.verify)
    approve  the upgrade proposal through the policy, signed by the demo Safe owners (bulwark.govern)
    upgrade  schedule + execute on the timelock, post-upgrade checks (bulwark.execute)
    resume   one unpause proposal per paused component, approved and executed (govern + execute)
    close    benign traffic after resumption must work; the incident is closed

Only the demo signs automatically (the demo owners' keys are local dev keys); against a real
chain the approve step waits for signatures given with ``bulwark approve``.
"""

from __future__ import annotations

import asyncio
import shutil
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bulwark.app.contain import run_contain_async
from bulwark.app.notify import announced
from bulwark.app.pipeline import verified_outcome
from bulwark.chain import ChainClient, Signer
from bulwark.chain.abi import encode_call
from bulwark.chain.timelock import is_paused
from bulwark.domain import Address, IncidentState, Severity, TxHash
from bulwark.domain.govern import ActionRule, GovAction, Policy, SmokeCall
from bulwark.domain.incident import TRANSITIONS
from bulwark.domain.verify import Evidence
from bulwark.errors import ScenarioError
from bulwark.execute import execute_upgrade, resume
from bulwark.flow import FlowEvent, IncidentFlow, Step, StepContext, StepOutcome
from bulwark.govern import approve, load, proposals, propose_unpause, propose_upgrade
from bulwark.logs import get_logger
from bulwark.notify import Notifier
from bulwark.patch import PatchRequest, generate
from bulwark.scenarios.attack import ScenarioContext
from bulwark.scenarios.benign import BenignTraffic
from bulwark.scenarios.corpus import Scenario
from bulwark.scenarios.protocol import Actor, Component, DemoProtocol, Deployed
from bulwark.scenarios.runner import RunOptions
from bulwark.store import Store
from bulwark.toolchain.anvil import Anvil
from bulwark.toolchain.paths import project_root
from bulwark.toolchain.solc import Compiler
from bulwark.verify.engine import VerifyRequest, verify
from bulwark.verify.sources import compile_candidate

log = get_logger(__name__)

__all__ = ["FullOptions", "IncidentSteps", "demo_policy", "run_full_async", "run_scenario_full"]

S = IncidentState


@dataclass(frozen=True, slots=True)
class FullOptions:
    """Knobs of the steps after containment. ``workdir`` receives the patched sources."""

    workdir: Path
    regress: int = 20
    benign_after: int = 30
    max_candidates: int = 3
    on_event: Callable[[FlowEvent], None] | None = None
    on_contained: Callable[[Mapping[str, Any]], None] | None = None
    # code | parameters | smallest: which remedy the policy prefers (bulwark.app.remedy.ParameterSteps)
    remedy: str = "code"
    # The configured channels: each step of the incident is announced on them (bulwark.app.notify).
    notifier: Notifier | None = None


@dataclass(frozen=True, slots=True)
class _RecordedVerdict:
    """What governance needs of a verdict, rebuilt from the stored verify record after a restart."""

    passed: bool
    evidence_hash: str
    evidence: Evidence


def demo_policy(protocol: DemoProtocol) -> Policy:
    """The demo protocol's policy: council = the 2-of-3 Safe owners, the demo timelock delay."""
    owners = tuple(Address(o.address) for o in protocol.safe_owners)
    delay = protocol.timelock_delay
    return Policy(
        protocol="demo",
        safe=Address(protocol.safe.address),
        timelock=Address(protocol.timelock.address),
        proxies={name: Address(c.proxy) for name, c in protocol.components.items()},
        owners=owners,
        safe_threshold=protocol.safe_threshold,
        rules={
            (GovAction.UPGRADE, Severity.CRITICAL): ActionRule(protocol.safe_threshold, delay, owners, 3600),
            (GovAction.UPGRADE, None): ActionRule(protocol.safe_threshold, delay, owners),
            (GovAction.UNPAUSE, None): ActionRule(protocol.safe_threshold, delay, owners),
        },
        sentinels=(Address(protocol.sentinel.address),),
        council=owners,
        guardian=Address(protocol.guardian.address),
    )


# Views of each component that must answer after an upgrade (eth_call from a normal user).
_SMOKE: Mapping[str, tuple[str, Callable[[DemoProtocol], tuple[Any, ...]]]] = {
    "vault": ("totalAssets", lambda p: ()),
    "lending": ("healthFactor", lambda p: (p.users[0].address,)),
    "oracle": ("price", lambda p: (p.token("weth").address,)),
    "pool": ("getReserves", lambda p: ()),
    "flash": ("maxFlashLoan", lambda p: (p.token("usd").address,)),
}


def _smoke(protocol: DemoProtocol, component: str) -> tuple[SmokeCall, ...]:
    spec = _SMOKE.get(component)
    if spec is None:
        return ()
    fn, args = spec
    comp = protocol.component(component)
    data = encode_call(comp.abi, fn, *args(protocol))
    return (
        SmokeCall(
            f"{component}.{fn}", Address(comp.proxy), "0x" + data.hex(), Address(protocol.users[0].address)
        ),
    )


def _on_attack(store: Store, incident_id: str, attack: set[str]) -> bool:
    return any(str(f.get("tx_hash") or "").lower() in attack for f in store.findings(incident_id))


def _primary_incident(store: Store, attack_txs: Sequence[TxHash], incidents: Sequence[str]) -> str | None:
    """The contained incident raised by the attack itself (highest severity first), among
    ``incidents``: the ones this run opened. A shared database holds others, from earlier runs of
    the same deterministic scenario, whose findings name the very same transaction hashes."""
    attack = {h.lower() for h in attack_txs}
    contained = [
        iid
        for iid in dict.fromkeys(incidents)
        if store.incident(iid).state is S.CONTAINED and _on_attack(store, iid, attack)
    ]
    if not contained:
        return None

    def rank(incident_id: str) -> tuple[int, int]:
        findings = store.findings(incident_id)
        sev = max((Severity.parse(str(f.get("severity", "info"))) for f in findings), default=Severity.INFO)
        # A finding that names the flaw (reentrancy, oracle...) says more than a broken invariant.
        specific = any(f.get("class") not in ("invariant-break", None) for f in findings)
        return (int(sev), int(specific))

    return max(contained, key=rank)


def path_to_closed(state: IncidentState) -> list[IncidentState] | None:
    """The shortest chain of legal transitions from ``state`` to CLOSED (``[]`` when closed)."""
    paths: dict[IncidentState, list[IncidentState]] = {state: []}
    queue = [state]
    while queue:
        current = queue.pop(0)
        if current is S.CLOSED:
            return paths[current]
        for nxt in sorted(TRANSITIONS[current], key=lambda s: s.value):
            if nxt not in paths:
                paths[nxt] = [*paths[current], nxt]
                queue.append(nxt)
    return None


def fold_duplicates(
    store: Store, primary: str, incidents: Sequence[str], attack_txs: Sequence[TxHash]
) -> list[str]:
    """One attack, one incident: close ``incidents`` (this run's, never an earlier run's) that
    the same attack opened as duplicates of ``primary``. Only DETECTED and CONTAINED ones (nobody
    carries them on) and only through legal transitions: a CONTAINED one goes through ESCALATED,
    after an ``incident.duplicate`` audit entry naming ``primary``. Returns the ids closed."""
    attack = {h.lower() for h in attack_txs}
    folded = []
    for iid in dict.fromkeys(incidents):
        if iid == primary:
            continue
        state = store.incident(iid).state
        if state not in (S.DETECTED, S.CONTAINED) or not _on_attack(store, iid, attack):
            continue
        path = path_to_closed(state)
        if path is None:  # pragma: no cover - every state but CLOSED reaches CLOSED
            continue
        store.audit("incident.duplicate", {"of": primary, "path": [p.value for p in path]}, iid)
        for to in path:
            store.transition(iid, to, f"duplicate of {primary}", {"duplicate_of": primary})
        folded.append(iid)
    return folded


# -- the run record: what a restarted process needs to carry the run's incident on ------------------

RUN_KIND = "scenario-run"


def _deployed_doc(d: Deployed) -> dict[str, Any]:
    return {"name": d.name, "contract": d.contract_name, "address": d.address, "abi": list(d.abi)}


def _deployed(doc: Mapping[str, Any]) -> Deployed:
    return Deployed(doc["name"], doc["contract"], Address(doc["address"]), tuple(doc["abi"]))


def protocol_doc(p: DemoProtocol) -> dict[str, Any]:
    """The protocol's handles as JSON. Keys are never stored: actors are kept by address only."""

    def actors(xs: Sequence[Actor]) -> list[dict[str, str]]:
        return [{"name": a.name, "address": a.address} for a in xs]

    return {
        "chain_id": p.chain_id,
        "components": {
            n: {
                "name": c.name,
                "contract": c.contract_name,
                "proxy": c.proxy,
                "implementation": c.implementation,
                "abi": list(c.abi),
            }
            for n, c in p.components.items()
        },
        "tokens": {n: _deployed_doc(t) for n, t in p.tokens.items()},
        "safe": _deployed_doc(p.safe),
        "timelock": _deployed_doc(p.timelock),
        "guardian": _deployed_doc(p.guardian),
        "timelock_delay": p.timelock_delay,
        "deployer": actors([p.deployer])[0],
        "safe_owners": actors(p.safe_owners),
        "safe_threshold": p.safe_threshold,
        "sentinel": actors([p.sentinel])[0],
        "feeder": actors([p.feeder])[0],
        "users": actors(p.users),
        "spare": actors(p.spare),
    }


def protocol_from_doc(doc: Mapping[str, Any], keys: Mapping[str, str]) -> DemoProtocol:
    """Rebuild the handles of :func:`protocol_doc`; ``keys`` maps lower-case address -> key."""

    def actor(d: Mapping[str, str]) -> Actor:
        key = keys.get(d["address"].lower())
        if key is None:
            raise ScenarioError(
                f"no local key for {d['name']} ({d['address']}): a scenario run is resumed only on "
                "a chain funded from anvil's default mnemonic"
            )
        return Actor(d["name"], Address(d["address"]), key)

    comps = {
        n: Component(
            c["name"], c["contract"], Address(c["proxy"]), Address(c["implementation"]), tuple(c["abi"])
        )
        for n, c in doc["components"].items()
    }
    return DemoProtocol(
        chain_id=int(doc["chain_id"]),
        components=comps,
        tokens={n: _deployed(t) for n, t in doc["tokens"].items()},
        safe=_deployed(doc["safe"]),
        timelock=_deployed(doc["timelock"]),
        guardian=_deployed(doc["guardian"]),
        timelock_delay=int(doc["timelock_delay"]),
        deployer=actor(doc["deployer"]),
        safe_owners=tuple(actor(a) for a in doc["safe_owners"]),
        safe_threshold=int(doc["safe_threshold"]),
        sentinel=actor(doc["sentinel"]),
        feeder=actor(doc["feeder"]),
        users=tuple(actor(a) for a in doc["users"]),
        spare=tuple(actor(a) for a in doc["spare"]),
    )


def _utc(at: datetime) -> datetime:
    """SQLite hands timestamps back naive (they were written in UTC)."""
    return at.replace(tzinfo=UTC) if at.tzinfo is None else at.astimezone(UTC)


def _started(run: Mapping[str, Any]) -> datetime:
    return _utc(datetime.fromisoformat(str(run["started_at"])))


def runs(store: Store) -> list[dict[str, Any]]:
    """Every recorded scenario run, oldest first."""
    return sorted((body for _id, _state, body in store.artifacts(RUN_KIND)), key=_started)


def run_of(store: Store, incident_id: str) -> dict[str, Any] | None:
    """The scenario run that opened ``incident_id``: the run that listed it once containment was
    over, or, when the run died before that, the last run started before the incident opened
    (runs on one store follow each other: each waits for its own chain)."""
    recorded = runs(store)
    for body in recorded:
        if incident_id in body.get("incidents", []):
            return body
    opened = _utc(store.incident(incident_id).opened_at)
    before = [b for b in recorded if _started(b) <= opened]
    if not before or before[-1].get("incidents"):
        return None  # the latest run before it finished containment without listing it
    # ...and its findings are about that run's protocol (a watch may share the store).
    doc = before[-1].get("protocol") or {}
    ours = {str(c["proxy"]).lower() for c in (doc.get("components") or {}).values()}
    named = {str(f.get("contract") or "").lower() for f in store.findings(incident_id)} - {""}
    if ours and named and not named & ours:
        return None
    return before[-1]


def run_incidents(store: Store, run: Mapping[str, Any]) -> list[str]:
    """The incidents ``run`` opened: listed by it, or (it died first) opened while it was the
    latest run."""
    if run.get("incidents"):
        return list(run["incidents"])
    start = _started(run)
    until = min((_started(b) for b in runs(store) if _started(b) > start), default=None)
    return [
        i.id
        for i in store.incidents()
        if _utc(i.opened_at) >= start and (until is None or _utc(i.opened_at) < until)
    ]


def _materialise(workdir: Path, index: int, patched: Mapping[str, str], original: Path) -> Path:
    """Write candidate ``index`` under ``workdir`` mirroring project-relative paths; the scenario's
    sibling files come along so that the patched contract's imports still resolve."""
    root = project_root()
    base = workdir / f"candidate-{index}"
    if base.exists():
        shutil.rmtree(base)
    rel = original.resolve().relative_to(root)
    mirror = base / rel.parent
    mirror.mkdir(parents=True, exist_ok=True)
    for sol in original.parent.glob("*.sol"):
        shutil.copyfile(sol, mirror / sol.name)
    for unit, text in patched.items():
        dest = base / unit
        dest.parent.mkdir(parents=True, exist_ok=True)
        dest.write_text(text)
    return base / rel


class IncidentSteps:
    """The steps after containment, as closures over one incident's chain and protocol.

    Built from plain handles (not the scenario run) so that a restarted process can rebuild them
    and resume the incident from the store."""

    def __init__(
        self,
        scenario: Scenario,
        protocol: DemoProtocol,
        attack_txs: Sequence[TxHash],
        rpc_url: str,
        client: ChainClient,
        compiler: Compiler,
        options: FullOptions,
        extra_assets: Sequence[Address] = (),
    ) -> None:
        self.scenario = scenario
        # Every token the protocol and the scenario's victims hold: a contained attack reverted,
        # so its receipts name none of them.
        self.assets = tuple(
            dict.fromkeys([*(Address(t.address) for t in protocol.tokens.values()), *extra_assets])
        )
        self.protocol = protocol
        self.attack_txs = list(attack_txs)
        self.rpc_url = rpc_url
        self.client = client
        self.compiler = compiler
        self.options = options
        self.policy = demo_policy(self.protocol)
        self.relayer = Signer(self.protocol.deployer.private_key)
        self.signers = [o.private_key for o in self.protocol.safe_owners[: self.protocol.safe_threshold]]

    def steps(self) -> list[Step]:
        if self.options.remedy != "code":
            from bulwark.app.remedy import CodeSteps, ParameterSteps

            code = CodeSteps(self.patch, self.verify, self.approve, self.upgrade, self.resume, self.close)
            return ParameterSteps(
                protocol=self.protocol,
                scenario=self.scenario,
                rpc_url=self.rpc_url,
                attack_txs=self.attack_txs,
                client=self.client,
                compiler=self.compiler,
                policy=self.policy,
                relayer=self.relayer,
                signer_keys=self.signers,
                code=code,
                prefer=self.options.remedy,
                smoke=lambda component: _smoke(self.protocol, component),
            ).steps()
        return [
            Step("patch", S.PATCHED, self.patch),
            Step("verify", S.VERIFIED, self.verify),
            Step("approve", S.APPROVED, self.approve),
            Step("upgrade", S.UPGRADED, self.upgrade),
            Step("resume", S.RESUMED, self.resume),
            Step("close", S.CLOSED, self.close),
        ]

    async def patch(self, ctx: StepContext) -> StepOutcome:
        vulnerable = self.scenario.vulnerable
        request = PatchRequest(
            paths=[vulnerable.source], contract=vulnerable.contract, max_patches=self.options.max_candidates
        )
        patches = await asyncio.to_thread(generate, request, self.compiler)
        if not patches:
            return StepOutcome(False, reason="no candidate patch was found", failure_state=S.ESCALATED)
        workdir = self.options.workdir / ctx.incident_id
        candidates = []
        for i, p in enumerate(patches):
            path = _materialise(workdir, i, p.patched_sources, vulnerable.source)
            candidates.append(
                {
                    "path": str(path),
                    "contract": vulnerable.contract,
                    "class": p.vuln_class.value,
                    "template": p.template,
                    "function": p.function,
                    "diff": p.diff,
                    "rationale": p.rationale,
                }
            )
        first = candidates[0]
        return StepOutcome(
            True,
            {
                "candidates": candidates,
                "diff": first["diff"],
                "template": first["template"],
                "class": first["class"],
            },
        )

    async def verify(self, ctx: StepContext) -> StepOutcome:
        proxies = tuple(Address(c.proxy) for c in self.protocol.components.values())
        proxy = Address(self.protocol.component(self.scenario.component).proxy)
        tried = []
        for i, cand in enumerate(ctx.records["patch"]["candidates"]):
            verdict = await verify(
                VerifyRequest(
                    rpc_url=self.rpc_url,
                    proxy=proxy,
                    candidate=Path(cand["path"]),
                    contract=cand["contract"],
                    live_source=self.scenario.vulnerable.source,
                    live_contract=self.scenario.vulnerable.contract,
                    attack_txs=tuple(self.attack_txs),
                    regress=self.options.regress,
                    protected=proxies,
                    upgrader=Address(self.protocol.timelock.address),
                    defenders=(Address(self.protocol.sentinel.address),),
                    # A contained attack reverted: its receipts name no token, so say which count.
                    assets=self.assets,
                    # Valued at the pre-attack oracle price: posting collateral to borrow is no loss.
                    price_oracle=Address(self.protocol.component("oracle").proxy)
                    if "oracle" in self.protocol.components
                    else None,
                ),
                compiler=self.compiler,
            )
            tried.append({"candidate": i, **verdict.summary()})
            if verdict.passed:
                return verified_outcome(ctx, i, cand, verdict, tried)
        reasons = "; ".join(f"candidate {t['candidate']}: {', '.join(t['reasons'])}" for t in tried)
        return StepOutcome(False, {"tried": tried}, reason=f"no candidate passed verification ({reasons})")

    async def approve(self, ctx: StepContext) -> StepOutcome:
        existing = [p for p, _ in proposals(ctx.store, ctx.incident_id) if p.action is GovAction.UPGRADE]
        if existing:  # a restart after proposing: never deploy or propose twice
            proposal = existing[0]
        else:
            rec = ctx.records["verify"]
            _, _, document = ctx.store.artifact(f"evidence:{rec['evidence_hash']}")
            verdict = _RecordedVerdict(True, rec["evidence_hash"], Evidence(document, rec["evidence_hash"]))
            compiled = compile_candidate(self.compiler, Path(rec["path"]), rec["contract"])
            proposal = await propose_upgrade(
                self.client,
                ctx.store,
                self.policy,
                verdict,
                component=self.scenario.component,
                implementation=compiled.artifact.bytecode,
                deployer=self.relayer,
                severity=Severity.CRITICAL,
                incident_id=ctx.incident_id,
            )
        status = None
        for key in self.signers:
            signed = {s.lower() for s, _, _ in ctx.store.signatures(proposal.id)}
            if Signer(key).address.lower() not in signed:
                status = await approve(self.client, ctx.store, proposal.id, key)
        _, state = load(ctx.store, proposal.id)
        return StepOutcome(
            True,
            {
                "proposal_id": proposal.id,
                "implementation": proposal.implementation,
                "evidence_hash": proposal.evidence_hash,
                "signed": len(status.signed) if status else self.protocol.safe_threshold,
                "threshold": proposal.threshold,
                "state": state.value,
            },
        )

    async def upgrade(self, ctx: StepContext) -> StepOutcome:
        pid = ctx.records["approve"]["proposal_id"]
        result = await execute_upgrade(
            self.client,
            ctx.store,
            pid,
            sender=self.relayer,
            smoke=_smoke(self.protocol, self.scenario.component),
            time_travel=True,
        )
        return StepOutcome(
            result.ok,
            {"txs": list(result.tx_hashes), "checks": [c.name for c in result.checks]},
            reason="post-upgrade checks failed",
            failure_state=S.FAILED,
        )

    async def _paused(self, component: str) -> bool:
        return await is_paused(self.client, self.protocol.component(component).proxy)

    async def resume(self, ctx: StepContext) -> StepOutcome:
        upgrade_id = ctx.records["approve"]["proposal_id"]
        done: list[dict[str, Any]] = []
        existing = {
            p.component: p for p, _ in proposals(ctx.store, ctx.incident_id) if p.action is GovAction.UNPAUSE
        }
        for component in self.protocol.components:
            if component not in existing and not await self._paused(component):
                continue
            proposal = existing.get(component) or await propose_unpause(
                self.client,
                ctx.store,
                self.policy,
                after=upgrade_id,
                severity=Severity.CRITICAL,
                component=component,
            )
            for key in self.signers:
                signed = {s.lower() for s, _, _ in ctx.store.signatures(proposal.id)}
                if Signer(key).address.lower() not in signed:
                    await approve(self.client, ctx.store, proposal.id, key)
            result = await resume(
                self.client,
                ctx.store,
                proposal.id,
                sender=self.relayer,
                smoke=_smoke(self.protocol, component),
                time_travel=True,
            )
            done.append({"component": component, "proposal_id": proposal.id, "txs": list(result.tx_hashes)})
            if not result.ok:
                return StepOutcome(
                    False,
                    {"unpaused": done},
                    reason=f"unpause of {component} failed its checks",
                    failure_state=S.FAILED,
                )
        still = [c for c in self.protocol.components if await self._paused(c)]
        if still:
            return StepOutcome(
                False, {"unpaused": done}, reason=f"still paused: {', '.join(still)}", failure_state=S.FAILED
            )
        return StepOutcome(True, {"unpaused": done})

    async def close(self, ctx: StepContext) -> StepOutcome:
        traffic = BenignTraffic(
            self.client, self.protocol, self.compiler, seed=991, exclude=self.scenario.benign_exclude
        )
        report = await traffic.run(self.options.benign_after)
        ok = report.reverted == 0
        return StepOutcome(
            ok,
            {"benign_after": report.to_json()},
            reason=f"{report.reverted} of {report.txs} benign transactions reverted after resumption",
        )


def flow_summary(store: Store, flow: IncidentFlow, incident_id: str, final: IncidentState) -> dict[str, Any]:
    """The run report's view of where the incident's flow ended."""
    records = flow.records(incident_id)
    verify_rec = records.get("verify", {})
    approve_rec = records.get("approve", {})
    last = store.audit_entries(incident_id)[-1].payload if final is not S.CLOSED else {}
    return {
        "incident": incident_id,
        "flow_state": final.value,
        "flow_reason": last.get("reason", ""),
        "remedy": records.get("patch", {}).get("remedy", "code"),
        "impact": verify_rec.get("impact") or records.get("patch", {}).get("impact"),
        "patched": "patch" in records,
        "verified": "verify" in records,
        "upgraded": "upgrade" in records,
        "resumed": "resume" in records,
        "evidence_hash": verify_rec.get("evidence_hash"),
        "proposal_id": approve_rec.get("proposal_id"),
        "diff": records.get("patch", {}).get("diff"),
        "verification": {
            k: verify_rec.get(k)
            for k in ("pass", "reasons", "layout_ok", "attack_blocked", "regressions", "gas_overhead_pct")
        }
        if verify_rec
        else None,
        "benign_after": records.get("close", {}).get("benign_after"),
        "steps_seconds": {name: rec.get("seconds") for name, rec in records.items()},
    }


async def run_full_async(
    scenario: Scenario,
    options: RunOptions,
    node: Anvil,
    client: ChainClient,
    compiler: Compiler,
    *,
    store: Store,
    full: FullOptions,
) -> dict[str, Any]:
    """Containment, then the incident flow to CLOSED (or a failure branch) on the same chain."""

    run_id = f"run-{uuid.uuid4().hex[:12]}"
    run_key = f"run:{run_id}"
    record: dict[str, Any] = {}

    async def prepared(sctx: ScenarioContext) -> None:
        # Before anything is watched: a pause may open an incident, and a process killed right
        # after it must leave what `bulwark incidents resume` needs to carry that incident on.
        record.update(
            run_id=run_id,
            started_at=datetime.now(UTC).isoformat(),
            scenario=scenario.name,
            rpc_url=node.http_url,
            block=await sctx.client.block_number(),
            attacker=sctx.attacker.address,
            protocol=protocol_doc(sctx.protocol),
            extra_assets=[t.address for t in sctx.world.tokens.values()],
            options={
                "workdir": str(full.workdir.resolve()),
                "regress": full.regress,
                "benign_after": full.benign_after,
                "max_candidates": full.max_candidates,
                "remedy": full.remedy,
            },
            attack_txs=[],
            incidents=[],
        )
        store.put_artifact(run_key, RUN_KIND, record, state="running")

    async def then(sctx: ScenarioContext, hashes: list[TxHash], contained: dict[str, Any]) -> dict[str, Any]:
        if full.on_contained is not None:
            full.on_contained(contained)
        # This run's incidents, exactly: the ones its responder opened or joined.
        ours = list(dict.fromkeys(str(c["incident"]) for c in contained["containments"] if c.get("incident")))
        record.update(attack_txs=list(hashes), incidents=ours)
        store.put_artifact(run_key, RUN_KIND, record, state="contained")
        incident_id = _primary_incident(store, hashes, ours)
        if incident_id is None:
            return {
                "patched": False,
                "verified": False,
                "upgraded": False,
                "resumed": False,
                "evidence_hash": None,
                "proposal_id": None,
                "incident": None,
                "flow_state": None,
                "flow_reason": "nothing was contained: no incident to carry on",
            }
        fold_duplicates(store, incident_id, ours, hashes)
        extra = [Address(t.address) for t in sctx.world.tokens.values()]
        incident = IncidentSteps(
            sctx.scenario, sctx.protocol, hashes, node.http_url, client, compiler, full, extra_assets=extra
        )
        events = announced(full.notifier, store, incident_id, full.on_event)
        flow = IncidentFlow(store, incident.steps(), on_event=events)
        try:
            final = await flow.run(incident_id)
        finally:
            if full.notifier is not None:
                await full.notifier.drain()  # the announcements leave before the run's loop ends
        return flow_summary(store, flow, incident_id, final)

    out = await run_contain_async(
        scenario, options, node, client, compiler, store=store, then=then, on_prepared=prepared
    )
    out["protect"] = "full"
    return out


def run_scenario_full(
    scenario: Scenario,
    options: RunOptions | None = None,
    *,
    store: Store,
    full: FullOptions,
    compiler: Compiler | None = None,
) -> dict[str, Any]:
    """Fresh anvil; the scenario under the whole loop, recorded in ``store``."""
    from bulwark.chain import run
    from bulwark.toolchain.anvil import AnvilOptions

    options = options or RunOptions()
    own = compiler is None
    comp = compiler or Compiler()
    try:
        with Anvil(AnvilOptions()) as node:

            async def _go() -> dict[str, Any]:
                async with ChainClient(node.http_url) as client:
                    return await run_full_async(scenario, options, node, client, comp, store=store, full=full)

            return run(_go())
    finally:
        if own:
            comp.close()
