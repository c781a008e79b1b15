"""Carry an interrupted incident on from its last recorded state.

A Bulwark process may die at any moment of an incident: right after a pause was broadcast, between
two steps, inside one. Everything a restart needs is in the store and the configuration, never in
the dead process's memory:

* the incident, its findings and its containment actions (the pause's tx hash is recorded as soon
  as it is sent) say what was done;
* an incident of ``bulwark watch`` is carried on with the watch's own configuration; one that a
  scenario run opened (:mod:`bulwark.app.runs`) is the lab's to carry on (:mod:`bulwark.lab.resume`).

Containment is the flow's first step here (:class:`ContainStep`): a DETECTED incident either has a
pause that landed on chain (it is recorded, nothing is sent) or is contained again through the
responder. Every later step is :class:`bulwark.flow.IncidentFlow`'s: a step with a stored record is
not run again, so no transaction is sent twice.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from bulwark.app.contain import responder_from_config
from bulwark.app.notify import announced, notifier_from_config
from bulwark.app.runs import run_of
from bulwark.chain import ChainClient
from bulwark.chain.watchers import ChainIdGuard
from bulwark.config import BulwarkConfig
from bulwark.domain import (
    Finding,
    IncidentState,
    Receipt,
    TxHash,
    finding_from_json,
)
from bulwark.flow import IncidentFlow, Step, StepContext, StepOutcome
from bulwark.logs import get_logger
from bulwark.respond import Responder
from bulwark.store import Store

log = get_logger(__name__)

__all__ = [
    "ContainStep",
    "finding_from_record",
    "landed_pause",
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
