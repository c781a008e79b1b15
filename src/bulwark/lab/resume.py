"""Carry a scenario run's interrupted incident on (``bulwark incidents resume ID``).

A scenario run (``bulwark scenario run --protect full``, ``bulwark demo``) records its chain, its
protocol's addresses (keys are never stored: they are the chain's dev keys), the configuration it
wrote and its options before anything is watched (:mod:`bulwark.app.runs`). A restart rebuilds the
product pipeline from that configuration; the watch's own incidents go through
:func:`bulwark.app.resume.resume_interrupted`.
"""

from __future__ import annotations

# -- scenario runs ---------------------------------------------------------------------------------
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from bulwark.app.notify import notifier_from_config
from bulwark.app.resume import resume_interrupted
from bulwark.app.runs import RUN_KIND, run_incidents, run_of
from bulwark.chain import ChainClient
from bulwark.config import BulwarkConfig
from bulwark.domain import Address, IncidentState, TxHash
from bulwark.errors import BulwarkError, ChainError, UsageError
from bulwark.flow import FlowEvent
from bulwark.lab.demo import load_demo_config
from bulwark.lab.full import (
    FullOptions,
    carry,
    flow_summary,
    fold_duplicates,
    incident_flow,
    protocol_from_doc,
    record_attack,
)
from bulwark.logs import mask
from bulwark.notify import Notifier
from bulwark.scenarios.corpus import load_corpus
from bulwark.store import Store
from bulwark.toolchain.anvil import dev_accounts
from bulwark.toolchain.solc import Compiler

__all__ = ["resume_incident", "resume_scenario_incident"]

S = IncidentState


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
    """Carry a scenario run's incident on, on the run's chain (or ``rpc_url``), through the product
    pipeline of the configuration the run wrote; each step is announced on ``notifier``'s channels."""
    url = rpc_url or str(run["rpc_url"])
    async with ChainClient(url) as client, ChainClient(url) as relay_client:
        try:
            chain_id = await client.chain_id()
        except (BulwarkError, OSError) as exc:
            raise ChainError(
                f"the chain of incident {incident_id} ({mask(url)}) does not answer; a scenario's "
                "own anvil ends with its process: give --rpc of a node holding that chain"
            ) from exc
        if not run.get("config"):
            raise UsageError(
                f"incident {incident_id} comes from a scenario run that recorded no configuration "
                "(an older Bulwark): run the scenario again"
            )
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
        record_attack(store, incident_id, attack)
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
        config = load_demo_config(Path(str(run["config"])), protocol)
        flow = incident_flow(
            config, store, incident_id, client, relay_client, protocol, full,
            rpc_url=url, scenario=scenario, attack_txs=attack, compiler=compiler,
        )  # fmt: skip
        try:
            final = await carry(flow, store, incident_id, client)
        finally:
            if notifier is not None:
                await notifier.drain()
        return flow_summary(store, flow, incident_id, final)


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
