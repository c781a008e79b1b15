"""Carry an interrupted incident on from its last recorded state.

A Bulwark process may die at any moment of an incident: right after a pause was broadcast, between
two steps, inside one. Everything a restart needs is in the store and the configuration, never in
the dead process's memory:

* the incident, its findings and its containment actions (the pause's tx hash is recorded as soon
  as it is sent) say what was done;
* a scenario run (``bulwark scenario run --protect full``, ``bulwark demo``) records its chain, its
  protocol's addresses (keys are never stored: they are the chain's dev keys) and its options
  before anything is watched (:data:`bulwark.app.full.RUN_KIND`);
* an incident of ``bulwark watch`` is carried on with the watch's own configuration.

Containment is the flow's first step here (:class:`ContainStep`): a DETECTED incident either has a
pause that landed on chain (it is recorded, nothing is sent) or is contained again through the
responder. Every later step is :class:`bulwark.flow.IncidentFlow`'s: a step with a stored record is
not run again, so no transaction is sent twice.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bulwark.app.contain import protected_set, responder_from_config
from bulwark.app.full import (
    RUN_KIND,
    FullOptions,
    IncidentSteps,
    flow_summary,
    fold_duplicates,
    protocol_from_doc,
    run_incidents,
    run_of,
)
from bulwark.app.notify import announced, notifier_from_config
from bulwark.chain import ChainClient, Signer
from bulwark.chain.relayer import Relayer
from bulwark.chain.watchers import ChainIdGuard
from bulwark.config import BulwarkConfig
from bulwark.domain import (
    Address,
    Finding,
    IncidentState,
    Receipt,
    TxHash,
    finding_from_json,
)
from bulwark.errors import BulwarkError, ChainError, UsageError
from bulwark.flow import FlowEvent, IncidentFlow, Step, StepContext, StepOutcome
from bulwark.logs import get_logger, mask
from bulwark.notify import Notifier
from bulwark.respond import Responder
from bulwark.scenarios.attack import World
from bulwark.scenarios.corpus import load_corpus
from bulwark.store import Store
from bulwark.toolchain.anvil import dev_accounts
from bulwark.toolchain.solc import Compiler

log = get_logger(__name__)

__all__ = [
    "ContainStep",
    "finding_from_record",
    "resume_incident",
    "resume_interrupted",
]

S = IncidentState

# Statuses of a containment action whose transaction may have landed (``dry-run`` sent nothing).
_SENT = ("sent", "covered", "confirmed", "reverted", "failed")


def finding_from_record(rec: Mapping[str, Any]) -> Finding:
    """The typed finding back from its stored JSON (``Store.findings``): the domain's one codec."""
    return finding_from_json(rec)


async def landed_pause(
    store: Store, client: ChainClient, incident_id: str, *, wait_s: float = 30.0
) -> Receipt | None:
    """The receipt of a containment of ``incident_id`` that succeeded on chain, if any. A pause
    still in the pool is waited for (sending another would be a second transaction)."""
    for action in store.actions(incident_id):
        if not action.tx_hash or action.status not in _SENT:
            continue
        tx = TxHash(action.tx_hash)
        receipt = await client.get_receipt(tx)
        if receipt is None and await client.get_transaction(tx) is not None:
            receipt = await client.wait_for_receipt(tx, timeout_s=wait_s)
        if receipt is not None and receipt.status:
            if action.status != "confirmed":
                store.record_action(
                    incident_id,
                    action.kind,
                    "confirmed",
                    step=action.step,
                    tx_hash=receipt.tx_hash,
                    block_number=receipt.block_number,
                    data={"found_on_restart": True},
                )
            return receipt
    return None


@dataclass(frozen=True, slots=True)
class ContainStep:
    """DETECTED -> CONTAINED after a restart: record a pause that landed, or contain again.

    ``responder`` builds (and starts) the responder only when a pause has to be sent; None means
    nothing may be sent here (a dry run)."""

    client: ChainClient
    responder: Callable[[], Awaitable[Responder]] | None
    wait_s: float = 30.0

    async def __call__(self, ctx: StepContext) -> StepOutcome:
        receipt = await landed_pause(ctx.store, self.client, ctx.incident_id, wait_s=self.wait_s)
        if receipt is not None:
            return StepOutcome(True, {"tx": receipt.tx_hash, "block": receipt.block_number, "how": "landed"})
        if self.responder is None:
            return StepOutcome(False, reason="no pause of this incident landed and this run may not send one")
        if not ctx.finding:
            return StepOutcome(False, reason="the incident has no finding to contain")
        responder = await self.responder()
        finding = finding_from_record(ctx.finding)
        responder.adopt(finding, ctx.incident_id)
        errors = []
        for c in await responder.respond(finding):
            outcome = await responder.settle(c, timeout_s=self.wait_s)
            if outcome.ok and outcome.receipt is not None:
                return StepOutcome(
                    True,
                    {
                        "tx": outcome.receipt.tx_hash,
                        "block": outcome.receipt.block_number,
                        "how": "sent again",
                    },
                )
            errors.append(outcome.error or f"{c.action.describe()} did not land")
        return StepOutcome(
            False, reason="containment failed again: " + ("; ".join(errors) or "the policy planned no action")
        )


# -- scenario runs ---------------------------------------------------------------------------------


async def _attack_txs(
    client: ChainClient, store: Store, run: Mapping[str, Any], incidents: Sequence[str]
) -> list[TxHash]:
    """The attack's transactions when the run died before recording them: what the attacker sent
    on chain since the run began (mined or still pending), and whatever the findings name."""
    attacker = str(run["attacker"]).lower()
    found: dict[str, tuple[int, int]] = {}
    head = await client.block_number()
    for number in range(int(run["block"]) + 1, head + 1):
        block = await client.get_block(number, full=True)
        for i, tx in enumerate(block.transactions):
            if tx.sender.lower() == attacker:
                found[tx.hash] = (number, i)
    for tx in await client.pending_transactions():
        if tx.sender.lower() == attacker:
            found.setdefault(tx.hash, (head + 1, tx.nonce))
    for iid in incidents:
        for f in store.findings(iid):
            if f.get("tx_hash"):
                found.setdefault(str(f["tx_hash"]), (head + 2, 0))
    return [TxHash(h) for h, _ in sorted(found.items(), key=lambda kv: kv[1])]


async def resume_scenario_incident(
    store: Store,
    incident_id: str,
    run: Mapping[str, Any],
    compiler: Compiler,
    *,
    rpc_url: str | None = None,
    on_event: Callable[[FlowEvent], None] | None = None,
    notifier: Notifier | None = None,
) -> dict[str, Any]:
    """Carry a scenario run's incident on, on the run's chain (or ``rpc_url``); each step is
    announced on ``notifier``'s channels."""
    url = rpc_url or str(run["rpc_url"])
    async with ChainClient(url) as client, ChainClient(url) as relay_client:
        try:
            chain_id = await client.chain_id()
        except (BulwarkError, OSError) as exc:
            raise ChainError(
                f"the chain of incident {incident_id} ({mask(url)}) does not answer; a scenario's "
                "own anvil ends with its process: give --rpc of a node holding that chain"
            ) from exc
        scenario = load_corpus().get(str(run["scenario"]))
        # deploy_protocol's accounts: 0 deployer, 1-3 owners, 4 sentinel, 5 feeder, 6-8 users, spare.
        keys = {a.address.lower(): a.private_key for a in dev_accounts(9 + len(run["protocol"]["spare"]))}
        protocol = protocol_from_doc(run["protocol"], keys)
        guardian = Address(protocol.guardian.address)
        if chain_id != protocol.chain_id or not await client.get_code(guardian):
            raise ChainError(
                f"{mask(url)} is not the chain incident {incident_id} happened on "
                f"(no guardian at {guardian} on chain {chain_id}); give --rpc of that chain"
            )
        incidents = list(dict.fromkeys([*run_incidents(store, run), incident_id]))
        attack = [TxHash(h) for h in run.get("attack_txs") or []] or await _attack_txs(
            client, store, run, incidents
        )
        # What was learned is recorded: a second resume reads it instead of guessing again.
        store.put_artifact(
            f"run:{run['run_id']}",
            RUN_KIND,
            {**run, "attack_txs": list(attack), "incidents": incidents},
            state="resumed",
        )
        fold_duplicates(store, incident_id, incidents, attack)
        opts = run["options"]
        full = FullOptions(
            workdir=Path(opts["workdir"]),
            regress=int(opts["regress"]),
            benign_after=int(opts["benign_after"]),
            max_candidates=int(opts["max_candidates"]),
            remedy=str(opts["remedy"]),
            on_event=on_event,
            notifier=notifier,
        )
        extra = [Address(a) for a in run.get("extra_assets") or []]
        steps = IncidentSteps(scenario, protocol, attack, url, client, compiler, full, extra_assets=extra)

        async def responder() -> Responder:
            r = Responder(
                Relayer(relay_client, Signer(protocol.sentinel.private_key)),
                [protected_set(World(protocol=protocol))],
                store=store,
            )
            await r.start()
            return r

        events = announced(notifier, store, incident_id, on_event)
        flow = IncidentFlow(
            store, [Step("contain", S.CONTAINED, ContainStep(client, responder)), *steps.steps()], events
        )
        try:
            final = await flow.run(incident_id)
        finally:
            if notifier is not None:
                await notifier.drain()
        return flow_summary(store, flow, incident_id, final)


# -- incidents of `bulwark watch` ------------------------------------------------------------------


def _watch_incidents(store: Store, config: BulwarkConfig, only: Sequence[str] | None) -> list[str]:
    """DETECTED incidents of the configured protocols that sent a containment (and were opened by
    the watch, not a scenario run)."""
    out = []
    for inc in store.incidents(S.DETECTED):
        if only is not None and inc.id not in only:
            continue
        if inc.protocol not in config.protocols or run_of(store, inc.id) is not None:
            continue
        if any(a.tx_hash and a.status in _SENT for a in store.actions(inc.id)):
            out.append(inc.id)
    return out


async def resume_interrupted(
    config: BulwarkConfig,
    store: Store,
    *,
    dry_run: bool = False,
    only: Sequence[str] | None = None,
    echo: Callable[[str], None] = lambda _line: None,
) -> dict[str, IncidentState]:
    """What ``bulwark watch`` does on start: its DETECTED incidents whose pause was sent are
    carried to CONTAINED (the pause landed: recorded; it did not: contained again, unless
    ``dry_run``). CONTAINED and later incidents wait where the watch pipeline stops today."""
    out: dict[str, IncidentState] = {}
    iids = _watch_incidents(store, config, only)
    notifier = notifier_from_config(config) if iids else None  # resolves channel secrets: only if needed
    for iid in iids:
        net_name = config.protocols[store.incident(iid).protocol].network
        net = config.networks[net_name]
        http = net.rpc_http.resolve()
        async with ChainClient(http) as client, ChainClient(http) as relay_client:
            await ChainIdGuard(client, net.chain_id, net_name).check()  # never act on another chain
            may_send = not dry_run and config.responses is not None
            if not may_send and await landed_pause(store, client, iid) is None:
                why = "WOULD contain it again" if dry_run else "no `responses` section to contain it again"
                echo(f"RESUME   {iid}: its pause did not land; {why}")
                out[iid] = store.incident(iid).state
                continue

            async def responder(relay_client: ChainClient = relay_client) -> Responder:
                r = responder_from_config(config, relay_client, store=store)
                await r.start()
                return r

            step = ContainStep(client, responder if may_send else None)
            flow = IncidentFlow(store, [Step("contain", S.CONTAINED, step)], announced(notifier, store, iid))
            try:
                state = await flow.run(iid)
            finally:
                if notifier is not None:
                    await notifier.drain()
        echo(f"RESUME   {iid}: {state.value}")
        out[iid] = state
    return out


async def resume_incident(
    store: Store,
    incident_id: str,
    *,
    config: BulwarkConfig | None = None,
    rpc_url: str | None = None,
    compiler: Compiler | None = None,
    on_event: Callable[[FlowEvent], None] | None = None,
) -> dict[str, Any]:
    """``bulwark incidents resume ID``: carry ``incident_id`` on from its last recorded state."""
    incident = store.incident(incident_id)  # fails with a message naming `bulwark incidents`
    if incident.state is S.CLOSED:
        return {"incident": incident_id, "flow_state": "closed", "flow_reason": "already closed"}
    run = run_of(store, incident_id)
    if run is not None:
        own = compiler is None
        comp = compiler or Compiler()
        try:
            notifier = notifier_from_config(config) if config is not None else None
            return await resume_scenario_incident(
                store, incident_id, run, comp, rpc_url=rpc_url, on_event=on_event, notifier=notifier
            )
        finally:
            if own:
                comp.close()
    if config is None:
        raise UsageError(
            f"incident {incident_id} was not opened by a scenario run: give the bulwark.yaml "
            "of the watch that opened it (-c)"
        )
    if incident.protocol not in config.protocols:
        raise UsageError(
            f"incident {incident_id} is about protocol {incident.protocol!r}, which the config does not name"
        )
    states = await resume_interrupted(config, store, only=[incident_id])
    final = states.get(incident_id, store.incident(incident_id).state)
    last = store.audit_entries(incident_id)[-1].payload
    return {"incident": incident_id, "flow_state": final.value, "flow_reason": last.get("reason", "")}
