"""The responder when the guardian requires k of n sentinels to pause (consensus mode).

The same response policy decides what to pause (:func:`bulwark.respond.plan`); each pause becomes a
:class:`~bulwark.respond.consensus.PauseRequest`, signed by this sentinel and its peers over the
authenticated channel (:func:`~bulwark.respond.consensus.gather`) and submitted in one
``pauseWithConsensus`` transaction.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bulwark.chain import TxRequest, encode_call
from bulwark.chain.relayer import Relayer
from bulwark.chain.timelock import is_paused
from bulwark.config.intel import ConsensusConfig
from bulwark.domain import Action, Address, Finding, Transaction, TxHash
from bulwark.errors import BulwarkError
from bulwark.logs import get_logger
from bulwark.respond.consensus import Gathered, PauseRequest, finding_id, gather
from bulwark.respond.policy import DEFAULT_POLICY, ProtectedSet, ResponsePolicy, plan
from bulwark.respond.responder import FeeStrategy, outbid
from bulwark.store import Store

__all__ = ["ConsensusPause", "ConsensusResponder", "ConsensusSettings"]

log = get_logger(__name__)

_CONSENSUS_ABI: tuple[dict[str, Any], ...] = (
    {
        "type": "function",
        "name": "pauseWithConsensus",
        "stateMutability": "nonpayable",
        "inputs": [
            {"name": "target", "type": "address"},
            {"name": "selectors", "type": "bytes4[]"},
            {"name": "findingId", "type": "bytes32"},
            {"name": "deadline", "type": "uint256"},
            {"name": "signatures", "type": "bytes[]"},
        ],
        "outputs": [],
    },
)
_PAUSING = frozenset({Action.PAUSE, Action.PAUSE_SELECTORS})


@dataclass(frozen=True, slots=True)
class ConsensusSettings:
    """k-of-n: ``threshold`` sentinels (this one included) must sign; ``peers`` are the other
    sentinels' channel URLs; ``secret`` authenticates the channel."""

    threshold: int
    peers: tuple[str, ...]
    secret: bytes = field(repr=False)
    timeout_s: float = 2.0
    deadline_s: int = 300
    sentinels: tuple[str, ...] = ()  # when given, signatures from anybody else are ignored

    @classmethod
    def from_config(cls, config: ConsensusConfig, base_dir: Path) -> ConsensusSettings:
        secret = config.channel_secret.anchored(base_dir).resolve().encode()
        return cls(config.threshold, config.peers, secret, config.timeout_s, config.deadline_s)


@dataclass(frozen=True, slots=True)
class ConsensusPause:
    """One consensus round for one target: who signed, what was sent, or why nothing was."""

    finding: Finding
    target: Address
    request: PauseRequest
    signers: tuple[Address, ...] = ()
    tx_hash: TxHash | None = None
    error: str | None = None
    failures: tuple[tuple[str, str], ...] = ()
    already_paused: bool = False  # no consensus, because there was nothing left to pause


class ConsensusResponder:
    """The responder when the guardian requires k of n sentinels: the same policy decides what to
    pause (:func:`bulwark.respond.plan`); each pause becomes a :class:`PauseRequest` over the
    target, the selectors and the finding's id, signed by this sentinel and its peers over the
    authenticated channel, and submitted in one ``pauseWithConsensus`` transaction (outbidding the
    attack like the single-key responder). A peer that is down is skipped; too few signatures is
    an error recorded in the log and the store, never a silent skip."""

    def __init__(
        self,
        relayer: Relayer,
        protected: Sequence[ProtectedSet],
        settings: ConsensusSettings,
        *,
        chain_id: int,
        policy: ResponsePolicy = DEFAULT_POLICY,
        store: Store | None = None,
        fees: FeeStrategy | None = None,
        gas_limit: int = 600_000,
        finding_json: Callable[[Finding], dict[str, Any]],
    ) -> None:
        self.relayer = relayer
        self.protected = {p.protocol: p for p in protected}
        self.settings = settings
        self.chain_id = chain_id
        self.policy = policy
        self.store = store
        self.fees = fees or FeeStrategy()
        self.gas_limit = gas_limit
        self.finding_json = finding_json  # the one Finding codec (detect's), handed in by app
        self._done: dict[tuple[str, tuple[str, ...]], TxHash] = {}
        self._lock = asyncio.Lock()  # findings arriving together: one round per target, not one each
        self.pauses: list[ConsensusPause] = []

    def requests(self, finding: Finding, attack: Transaction | None = None) -> list[PauseRequest]:
        protected = self.protected.get(finding.protocol)
        if protected is None:
            return []
        body = self.finding_json(finding)
        fid = finding_id(body)
        deadline = int(time.time()) + self.settings.deadline_s
        out = []
        for action in plan(finding, protected, self.policy, attack):
            if action.kind not in _PAUSING:
                continue
            sels = tuple(s.lower() for s in action.selectors) if action.kind is Action.PAUSE_SELECTORS else ()
            for target in action.targets:
                if (target.lower(), sels) in self._done:
                    continue
                out.append(PauseRequest(self.chain_id, protected.guardian, target, sels, fid, deadline, body))
        return out

    async def respond(self, finding: Finding, attack: Transaction | None = None) -> list[ConsensusPause]:
        async with self._lock:
            return await self._respond(finding, attack)

    async def _respond(self, finding: Finding, attack: Transaction | None) -> list[ConsensusPause]:
        reqs = self.requests(finding, attack)
        rounds = await asyncio.gather(*(self._gather(r) for r in reqs), return_exceptions=True)
        out: list[ConsensusPause] = []
        for req, got in zip(reqs, rounds, strict=True):
            if isinstance(got, BaseException):
                msg = got.user_message if isinstance(got, BulwarkError) else f"{type(got).__name__}: {got}"
                if await self._paused(req.target):  # the peers refuse to pause what is paused
                    self._done[(req.target.lower(), req.selectors)] = TxHash("0x")
                    pause = ConsensusPause(finding, req.target, req, already_paused=True)
                else:
                    pause = ConsensusPause(finding, req.target, req, error=msg)
                    log.error("consensus pause not possible", target=req.target, finding=req.finding_id,
                              error=msg)  # fmt: skip
            else:
                pause = await self._submit(finding, req, got, attack)
            self._record(pause)
            out.append(pause)
        self.pauses.extend(out)
        return out

    async def _paused(self, target: Address) -> bool:
        try:
            return await is_paused(self.relayer.client, target)
        except BulwarkError:
            return False  # unknown: ask the peers, who read it themselves

    async def _gather(self, req: PauseRequest) -> Gathered:
        s = self.settings
        return await gather(
            req,
            self.relayer.signer,
            s.peers,
            s.secret,
            threshold=s.threshold,
            sentinels=s.sentinels,
            timeout_s=s.timeout_s,
        )

    async def _submit(
        self, finding: Finding, req: PauseRequest, got: Gathered, attack: Transaction | None
    ) -> ConsensusPause:
        data = encode_call(
            _CONSENSUS_ABI,
            "pauseWithConsensus",
            req.target,
            [bytes.fromhex(s[2:]) for s in req.selectors],
            bytes.fromhex(req.finding_id[2:]),
            req.deadline,
            got.ordered(),
        )
        fees = self.relayer.capped(outbid(attack, self.relayer.base_fee, self.fees))
        signers = tuple(a for a, _ in got.signatures)
        try:
            sent = await self.relayer.send(
                TxRequest(to=req.guardian, data=data, gas=self.gas_limit),
                fees,
                label=f"consensus pause {req.target}",
            )
        except BulwarkError as exc:
            return ConsensusPause(
                finding, req.target, req, signers, error=exc.user_message, failures=got.failures
            )
        self._done[(req.target.lower(), req.selectors)] = sent.tx_hash
        log.warning(
            "consensus pause sent",
            target=req.target,
            signers=len(signers),
            tx=sent.tx_hash,
            finding=req.finding_id,
        )
        return ConsensusPause(finding, req.target, req, signers, sent.tx_hash, failures=got.failures)

    def _record(self, pause: ConsensusPause) -> None:
        if self.store is None:
            return
        self.store.audit(
            "consensus.pause",
            {
                "target": pause.target,
                "finding_id": pause.request.finding_id,
                "deadline": pause.request.deadline,
                "signers": list(pause.signers),
                "tx": pause.tx_hash,
                "error": pause.error,
                "already_paused": pause.already_paused,
                "peers_failed": [list(f) for f in pause.failures],
            },
        )
