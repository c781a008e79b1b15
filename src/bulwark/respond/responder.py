"""The containment stage: a finding in, guardian transactions out, ordered before the attack.

Hot path (:meth:`Responder.respond`): policy -> actions -> fees that outbid the attack -> the
broadcast, over the relayer's own HTTP connection (never the mempool subscription's socket). No
RPC happens before the broadcast: the nonce is local, the base fee cached, the gas fixed, and a
protocol-wide pause is pre-signed for the next nonce at a high fee cap, so the common case is a
single ``eth_sendRawTransaction``. The incident record, the confirmation and the ordering check
come after, off the hot path (:meth:`Responder.settle`).

Front-running: a builder ordering by tip puts the pause first when its tip is above the attack's
and its max fee leaves room for that tip over the base fee: tip = attack tip x 2 + 1 gwei, max
fee >= attack max fee + tip (and >= 2 x base fee + tip).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from bulwark import metrics
from bulwark.chain.client import TxRequest
from bulwark.chain.relayer import GWEI, Confirmed, Fees, Relayer, RelayerError, Sent, SignedTx
from bulwark.domain import Action, Finding, IncidentState, Receipt, Transaction, TxHash
from bulwark.errors import BulwarkError
from bulwark.logs import get_logger
from bulwark.respond.actions import PlannedAction, guardian_call
from bulwark.respond.policy import DEFAULT_POLICY, ProtectedSet, ResponsePolicy, plan
from bulwark.store import Store

log = get_logger(__name__)

__all__ = ["Containment", "FeeStrategy", "Outcome", "Responder", "outbid"]

Ordering = Literal["before-same-block", "earlier-block", "after", "attack-not-mined", "no-attack"]


@dataclass(frozen=True, slots=True)
class FeeStrategy:
    min_tip: int = 2 * GWEI
    tip_multiplier: int = 2
    tip_extra: int = GWEI
    presign_tip: int = 200 * GWEI
    presign_max_fee: int = 2_000 * GWEI
    gas_limit: int = 400_000


def outbid(attack: Transaction | None, base_fee: int, strategy: FeeStrategy = FeeStrategy()) -> Fees:
    """Fees that order a transaction before ``attack`` in a tip-ordered block."""
    if attack is None:
        tip = strategy.min_tip
        return Fees(max_fee=2 * base_fee + tip, tip=tip)
    tip = max(strategy.min_tip, attack.priority_fee * strategy.tip_multiplier + strategy.tip_extra)
    attack_cap = attack.max_fee_per_gas or attack.gas_price or 0
    return Fees(max_fee=max(attack_cap + tip, 2 * base_fee + tip), tip=tip)


@dataclass(frozen=True, slots=True)
class Containment:
    """One action sent (or, in a dry run, that would have been) for one finding."""

    finding: Finding
    action: PlannedAction
    tx_hash: TxHash | None
    fees: Fees | None
    attack_tx: TxHash | None
    presigned: bool
    response_ms: float | None
    """Attack arrival in the mempool -> broadcast accepted (None when the arrival is unknown)."""
    decide_ms: float
    """Finding handed over -> broadcast accepted."""
    dry_run: bool = False
    covered_by: TxHash | None = None
    """Set when an identical action was already sent: nothing new went out."""
    sent: Sent | None = field(default=None, repr=False)


@dataclass(frozen=True, slots=True)
class Outcome:
    containment: Containment
    incident_id: str | None
    receipt: Receipt | None
    attack_receipt: Receipt | None
    ordering: Ordering
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.receipt is not None and self.receipt.status

    def to_json(self) -> dict[str, Any]:
        c = self.containment
        r, a = self.receipt, self.attack_receipt
        return {
            "incident": self.incident_id,
            "action": c.action.kind.value,
            "describe": c.action.describe(),
            "targets": list(c.action.targets),
            "tx": c.tx_hash,
            "covered_by": c.covered_by,
            "attack_tx": c.attack_tx,
            "presigned": c.presigned,
            "response_ms": None if c.response_ms is None else round(c.response_ms, 3),
            "decide_ms": round(c.decide_ms, 3),
            "tip_wei": c.fees.tip if c.fees else None,
            "status": None if r is None else ("ok" if r.status else "reverted"),
            "block": None if r is None else r.block_number,
            "index": None if r is None else r.transaction_index,
            "attack_block": None if a is None else a.block_number,
            "attack_index": None if a is None else a.transaction_index,
            "attack_status": None if a is None else ("ok" if a.status else "reverted"),
            "ordering": self.ordering,
            "error": self.error,
        }


def ordering(pause: Receipt | None, attack: Receipt | None, attack_tx: TxHash | None) -> Ordering:
    if attack_tx is None:
        return "no-attack"
    if attack is None or pause is None:
        return "attack-not-mined" if attack is None else "after"
    if pause.block_number < attack.block_number:
        return "earlier-block"
    if pause.block_number == attack.block_number and pause.transaction_index < attack.transaction_index:
        return "before-same-block"
    return "after"


class Responder:
    """Applies the response policy through the guardian with one relayer key."""

    def __init__(
        self,
        relayer: Relayer,
        protected: Sequence[ProtectedSet],
        *,
        policy: ResponsePolicy = DEFAULT_POLICY,
        store: Store | None = None,
        fees: FeeStrategy | None = None,
        presign: bool = True,
        dry_run: bool = False,
        clock: Callable[[], float] = time.perf_counter,
    ) -> None:
        self.relayer = relayer
        self.protected: Mapping[str, ProtectedSet] = {p.protocol: p for p in protected}
        self.policy = policy
        self.store = store
        self.fees = fees or FeeStrategy()
        self.presign_enabled = presign and not dry_run
        self.dry_run = dry_run
        self._clock = clock
        self._presigned: dict[tuple[str, ...], SignedTx] = {}
        self._done: dict[tuple[str, ...], TxHash] = {}
        self._incidents: dict[tuple[str, str, str], str] = {}
        # One attack is one incident, however many detectors flag its transaction.
        self._by_attack: dict[str, str] = {}
        self.containments: list[Containment] = []

    # -- set-up ------------------------------------------------------------------------------------

    async def start(self) -> None:
        if not self.dry_run:
            await self.relayer.start()
        self.presign()

    def presign(self) -> None:
        """Sign the protocol-wide pause of every protected protocol for the next nonce, at a high
        fee cap (one of them can be used; the rest are signed again for the following nonce)."""
        self._presigned.clear()
        if not self.presign_enabled:
            return
        fees = Fees(max_fee=self.fees.presign_max_fee, tip=self.fees.presign_tip)
        for p in self.protected.values():
            action = PlannedAction(Action.PAUSE, p.targets)
            if action.key in self._done or not p.targets:
                continue
            self._presigned[action.key] = self.relayer.sign(
                self._request(p, action), fees, self.relayer.next_nonce, label=f"presigned pause {p.protocol}"
            )

    def _request(self, protected: ProtectedSet, action: PlannedAction) -> TxRequest:
        return TxRequest(to=protected.guardian, data=guardian_call(action).data, gas=self.fees.gas_limit)

    # -- the hot path ------------------------------------------------------------------------------

    async def respond(
        self, finding: Finding, attack: Transaction | None = None, *, seen_at: float | None = None
    ) -> list[Containment]:
        """Send what the policy asks for ``finding``; ``seen_at`` is the attack's arrival in the
        mempool (``time.perf_counter()``), for the response time."""
        started = self._clock()
        protected = self.protected.get(finding.protocol)
        if protected is None:
            return []
        actions = plan(finding, protected, self.policy, attack)
        out: list[Containment] = []
        for action in actions:
            out.append(await self._apply(finding, attack, protected, action, started, seen_at))
        self.containments.extend(out)
        return out

    async def _apply(
        self,
        finding: Finding,
        attack: Transaction | None,
        protected: ProtectedSet,
        action: PlannedAction,
        started: float,
        seen_at: float | None,
    ) -> Containment:
        attack_hash = attack.hash if attack is not None else finding.tx_hash
        covered = self._done.get(action.key)
        if covered is not None:
            return Containment(
                finding, action, covered, None, attack_hash, False, None, 0.0, self.dry_run, covered
            )
        fees = self.relayer.capped(outbid(attack, self.relayer.base_fee, self.fees))
        if self.dry_run:
            self._done[action.key] = TxHash("0x")
            return Containment(finding, action, None, fees, attack_hash, False, None, 0.0, True)
        pre = self._presigned.get(action.key)
        use_pre = pre is not None and pre.fees.covers(fees) and pre.nonce == self.relayer.next_nonce
        if use_pre and pre is not None:
            sent = await self.relayer.send_signed(pre)
        else:
            sent = await self.relayer.send(self._request(protected, action), fees, label=action.describe())
        now = self._clock()
        self._done[action.key] = sent.tx_hash
        response = (sent.broadcast_at - seen_at) * 1000 if seen_at is not None else None
        log.warning(
            "containment sent",
            action=action.describe(),
            tx=sent.tx_hash,
            attack=attack_hash,
            tip=sent.signed.fees.tip,
            presigned=use_pre,
            response_ms=None if response is None else round(response, 3),
        )
        # The nonce moved: what was pre-signed is stale.
        self.presign()
        return Containment(
            finding,
            action,
            sent.tx_hash,
            sent.signed.fees,
            attack_hash,
            use_pre,
            response,
            (now - started) * 1000,
            sent=sent,
        )

    # -- after the broadcast -----------------------------------------------------------------------

    def adopt(self, finding: Finding, incident_id: str) -> None:
        """Record what is sent for ``finding`` on ``incident_id`` (an incident carried over from an
        earlier process) instead of opening a new one."""
        self._incidents[finding.dedup_key] = incident_id
        if finding.tx_hash:
            self._by_attack[finding.tx_hash.lower()] = incident_id

    def record_sent(self, c: Containment) -> str | None:
        """Open (or join) the incident and record the action as sent."""
        if self.store is None:
            return None
        key = c.finding.dedup_key
        attack = (c.attack_tx or c.finding.tx_hash or "").lower()
        iid = self._incidents.get(key) or (self._by_attack.get(attack) if attack else None)
        if iid is None:
            iid = self.store.open_incident(c.finding).id
        elif key not in self._incidents:  # another detector on the same attack: the same incident
            self.store.record_finding(c.finding, iid)
        self._incidents[key] = iid
        if attack:
            self._by_attack[attack] = iid
        self.store.record_action(
            iid,
            c.action.kind.value,
            "dry-run" if c.dry_run else ("covered" if c.covered_by else "sent"),
            step=",".join(c.action.targets),
            tx_hash=c.tx_hash,
            data={
                "describe": c.action.describe(),
                "attack_tx": c.attack_tx,
                "response_ms": c.response_ms,
                "presigned": c.presigned,
                "tip_wei": c.fees.tip if c.fees else None,
            },
        )
        return iid

    async def settle(self, c: Containment, *, timeout_s: float = 60.0) -> Outcome:
        """Follow the containment to its receipt (replacing/re-sending as needed), compare with the
        attack's position, record it, and move the incident to CONTAINED when it landed."""
        iid = self.record_sent(c)
        receipt: Receipt | None = None
        error: str | None = None
        if c.sent is not None:
            try:
                confirmed: Confirmed = await self.relayer.wait(c.sent, timeout_s=timeout_s)
                receipt = confirmed.receipt
            except (RelayerError, BulwarkError) as exc:
                error = exc.user_message
        elif c.covered_by is not None and not c.dry_run:
            receipt = await self.relayer.client.get_receipt(c.covered_by)
        attack_receipt = await self.relayer.client.get_receipt(c.attack_tx) if c.attack_tx else None
        order = ordering(receipt, attack_receipt, c.attack_tx)
        outcome = Outcome(c, iid, receipt, attack_receipt, order, error)
        if outcome.ok and c.response_ms is not None and not c.dry_run:
            metrics.observe_time_to_contain(c.finding.protocol, c.response_ms / 1000)
        if self.store is not None and iid is not None and not c.dry_run and c.covered_by is None:
            status = "confirmed" if outcome.ok else ("failed" if receipt is None else "reverted")
            self.store.record_action(
                iid,
                c.action.kind.value,
                status,
                step=",".join(c.action.targets),
                tx_hash=receipt.tx_hash if receipt else c.tx_hash,
                block_number=receipt.block_number if receipt else None,
                data=outcome.to_json(),
            )
            if outcome.ok and self.store.incident(iid).state is IncidentState.DETECTED:
                self.store.transition(
                    iid,
                    IncidentState.CONTAINED,
                    c.action.describe(),
                    {"tx": receipt.tx_hash if receipt else None, "ordering": order},
                )
        return outcome

    async def settle_all(self, timeout_s: float = 60.0) -> list[Outcome]:
        return list(await asyncio.gather(*(self.settle(c, timeout_s=timeout_s) for c in self.containments)))
