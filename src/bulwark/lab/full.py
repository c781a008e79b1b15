"""``--protect full`` and ``bulwark demo``: a scenario driving the product pipeline.

A scenario run deploys the demo protocol, writes the configuration a team would
(:mod:`bulwark.lab.demo`: the protocol's project, proxies and implementations, its Safe and timelock,
and a ``signers`` section with the demo owners' keys), then stages its attack under containment
(:mod:`bulwark.lab.contain`). The incident is then carried by :class:`bulwark.app.pipeline.
ProtocolPipeline`, built from that configuration exactly as ``bulwark watch`` builds it:

    contain  the pause that landed is recorded (or sent again after a restart)
    patch    candidates for the contracts the findings name, from the configured project
    verify   the first candidate that the captured attack, recent traffic and the layout pass
    approve  the upgrade proposal, signed by the configured signers (the demo's owners)
    upgrade  scheduled on the timelock, executed once its delay has passed, post-checks
    resume   one unpause proposal per paused contract, the same way
    close    nothing is left paused

The lab plays the world's part only: on its local chain it lets each timelock delay pass when the
flow waits on one, and after the flow closes it checks that benign traffic works again.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bulwark.app.attack import ATTACK_KEY
from bulwark.app.notify import announced
from bulwark.app.pipeline import PipelineOptions, ProtocolPipeline
from bulwark.app.resume import ContainStep
from bulwark.app.runs import RUN_KIND
from bulwark.chain import ChainClient, Signer
from bulwark.chain.relayer import Relayer
from bulwark.config import BulwarkConfig
from bulwark.domain import Address, IncidentState, Severity, TxHash
from bulwark.domain.govern import ProposalState
from bulwark.domain.incident import TRANSITIONS
from bulwark.errors import ScenarioError
from bulwark.flow import FlowEvent, IncidentFlow
from bulwark.govern import proposals
from bulwark.lab.contain import protected_set, run_contain_async
from bulwark.lab.demo import PROTOCOL, demo_policy, load_demo_config, write_demo_config
from bulwark.lab.remedy.records import expected_reverts
from bulwark.logs import get_logger
from bulwark.notify import Notifier
from bulwark.respond import Responder
from bulwark.scenarios.attack import ScenarioContext, World
from bulwark.scenarios.benign import BenignTraffic
from bulwark.scenarios.corpus import Scenario
from bulwark.scenarios.protocol import Actor, Component, DemoProtocol, Deployed
from bulwark.scenarios.runner import RunOptions, on_fresh_chain
from bulwark.store import Store
from bulwark.toolchain.anvil import Anvil
from bulwark.toolchain.solc import Compiler

log = get_logger(__name__)

__all__ = ["FullOptions", "carry", "incident_flow", "record_attack", "run_full_async", "run_scenario_full"]

S = IncidentState


@dataclass(frozen=True, slots=True)
class FullOptions:
    """Knobs of the steps after containment. ``workdir`` receives the configuration, the project
    and the patched candidates."""

    workdir: Path
    regress: int = 20
    benign_after: int = 30
    max_candidates: int = 3
    on_event: Callable[[FlowEvent], None] | None = None
    on_contained: Callable[[Mapping[str, Any]], None] | None = None
    # code | parameters | smallest: which remedy the policy prefers (bulwark.lab.remedy.ParameterSteps)
    remedy: str = "code"
    # The configured channels: each step of the incident is announced on them (bulwark.app.notify).
    notifier: Notifier | None = None


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


def incident_flow(
    config: BulwarkConfig,
    store: Store,
    incident_id: str,
    client: ChainClient,
    relay_client: ChainClient,
    protocol: DemoProtocol,
    full: FullOptions,
    *,
    rpc_url: str,
    scenario: Scenario,
    attack_txs: Sequence[TxHash],
    compiler: Compiler,
) -> IncidentFlow:
    """The product pipeline of ``config``'s protocol for one incident (as ``bulwark watch``'s
    driver builds it), its containment step able to pause again through the demo sentinel."""
    # Submits what the owners signed: any funded key may; not the pause key, whose transactions
    # are containment's alone.
    relayer = Signer(protocol.deployer.private_key)

    async def responder() -> Responder:
        sentinel = Signer(protocol.sentinel.private_key)
        r = Responder(Relayer(relay_client, sentinel), [protected_set(World(protocol=protocol))], store=store)
        await r.start()
        return r

    pipeline = ProtocolPipeline(
        config,
        PROTOCOL,
        client,
        relayer,
        PipelineOptions(workdir=full.workdir, max_candidates=full.max_candidates, regress=full.regress),
        rpc_url=rpc_url,
        contain=ContainStep(client, responder),
    )
    steps = pipeline.steps()
    if full.remedy != "code":
        from bulwark.lab.remedy import CodeSteps, ParameterSteps

        code = CodeSteps(
            pipeline.patch,
            pipeline.verify,
            pipeline.approve,
            pipeline.upgrade,
            pipeline.resume,
            pipeline.close,
        )
        params = ParameterSteps(
            protocol=protocol,
            scenario=scenario,
            rpc_url=rpc_url,
            attack_txs=list(attack_txs),
            client=client,
            compiler=compiler,
            policy=demo_policy(protocol),
            relayer=relayer,
            signer_keys=[s.private_key() for s in config.signers.get(PROTOCOL, ())],
            code=code,
            prefer=full.remedy,
        )
        steps = [steps[0], *params.steps()]
    return IncidentFlow(store, steps, announced(full.notifier, store, incident_id, full.on_event))


def record_attack(store: Store, incident_id: str, hashes: Sequence[TxHash]) -> None:
    """The attack's transactions on the incident record, as its capture saw them sent: the
    harness watched the attacker send every one (in production, those flagged are captured)."""
    store.put_artifact(
        ATTACK_KEY.format(incident_id), "attack", {"txs": list(hashes)}, incident_id=incident_id
    )


async def carry(flow: IncidentFlow, store: Store, incident_id: str, client: ChainClient) -> IncidentState:
    """Run the incident's flow; each time it waits on a timelock delay, let the delay pass on the
    local chain and run it again. A wait on people (signatures) is left as it is."""
    final = await flow.run(incident_id)
    for _ in range(32):  # an upgrade and an unpause per contract, each waiting once
        scheduled = [p for p, st in proposals(store, incident_id) if st is ProposalState.SCHEDULED]
        if flow.waiting(incident_id) is None or not scheduled:
            break
        await client.request("evm_increaseTime", [max(p.timelock_op.delay_s for p in scheduled) + 1])
        await client.mine()
        final = await flow.run(incident_id)
    return final


async def benign_after(
    client: ChainClient, protocol: DemoProtocol, compiler: Compiler, scenario: Scenario, txs: int
) -> dict[str, Any]:
    """Benign traffic on the resumed protocol: the harness's check once the flow has closed."""
    traffic = BenignTraffic(client, protocol, compiler, seed=991, exclude=scenario.benign_exclude)
    return (await traffic.run(txs)).to_json()


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
    """Containment, then the product pipeline to CLOSED (or a failure branch) on the same chain."""

    run_id = f"run-{uuid.uuid4().hex[:12]}"
    run_key = f"run:{run_id}"
    record: dict[str, Any] = {}
    folder = full.workdir.resolve() / run_id

    async def prepared(sctx: ScenarioContext) -> None:
        # Before anything is watched: a pause may open an incident, and a process killed right
        # after it must leave what `bulwark incidents resume` needs to carry that incident on.
        config = write_demo_config(
            sctx.world, scenario, rpc_url=node.http_url, ws_url=node.ws_url, folder=folder
        )
        record.update(
            run_id=run_id,
            started_at=datetime.now(UTC).isoformat(),
            scenario=scenario.name,
            rpc_url=node.http_url,
            config=str(config),
            block=await sctx.client.block_number(),
            attacker=sctx.attacker.address,
            protocol=protocol_doc(sctx.protocol),
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
        record_attack(store, incident_id, hashes)
        config = load_demo_config(Path(record["config"]), sctx.protocol)
        async with ChainClient(node.http_url) as relay_client:
            flow = incident_flow(
                config, store, incident_id, client, relay_client, sctx.protocol, full,
                rpc_url=node.http_url, scenario=scenario, attack_txs=hashes, compiler=compiler,
            )  # fmt: skip
            try:
                final = await carry(flow, store, incident_id, client)
            finally:
                if full.notifier is not None:
                    await full.notifier.drain()  # the announcements leave before the run's loop ends
        out = flow_summary(store, flow, incident_id, final)
        if final is S.CLOSED:
            benign = await benign_after(client, sctx.protocol, compiler, scenario, full.benign_after)
            out["benign_after"] = benign
            patched = flow.records(incident_id).get("patch", {})
            if patched.get("remedy") == "parameters":  # reverts the impact report said it blocks
                out["benign_expected_reverts"] = expected_reverts(patched, {"benign_after": benign})
        return out

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
    opts = options or RunOptions()
    return on_fresh_chain(
        lambda node, client, comp: run_full_async(scenario, opts, node, client, comp, store=store, full=full),
        compiler,
    )
