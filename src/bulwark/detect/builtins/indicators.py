"""Indicator match: the sender, a called contract or a deployed contract's code hash is on the
configured indicator list (e.g. from threat intelligence)."""

from __future__ import annotations

from collections.abc import Iterable

from eth_utils.crypto import keccak
from pydantic import Field

from bulwark.detect.base import About, Detector, Params
from bulwark.detect.model import ChainView, TxEvent
from bulwark.domain import Action, Address, Confidence, Finding, Severity, VulnClass


class IndicatorParams(Params):
    addresses: frozenset[Address] = Field(default_factory=frozenset)
    code_hashes: frozenset[str] = Field(default_factory=frozenset)


class IndicatorMatch(Detector):
    """Sender, called contract or deployed code hash on the configured indicator list."""

    ABOUT = About("indicator-match", VulnClass.KNOWN_ATTACKER)
    IMPACT, CONFIDENCE = Severity.HIGH, Confidence.HIGH
    params: IndicatorParams

    def __call__(self, view: ChainView, event: TxEvent) -> Iterable[Finding]:
        if not self.params.addresses and not self.params.code_hashes:
            return ()  # nothing to match (a plain return: no generator per transaction)
        return self._judge(view, event)

    def _judge(self, view: ChainView, event: TxEvent) -> Iterable[Finding]:
        p = self.params
        hits: dict[str, str] = {}
        if event.tx.sender in p.addresses:
            hits[event.tx.sender] = "sender"
        if event.tx.to is not None and event.tx.to in p.addresses:
            hits[event.tx.to] = "recipient"
        for step in event.calls():
            f = step.frame
            if f is None:
                continue
            if f.to is not None and f.to in p.addresses:
                hits.setdefault(f.to, "called" if f.type not in ("CREATE", "CREATE2") else "deployed")
            if f.type in ("CREATE", "CREATE2") and f.output and f.to is not None:
                code_hash = "0x" + keccak(f.output).hex()
                if code_hash in p.code_hashes:
                    hits.setdefault(f.to, f"code hash {code_hash}")
        for address, why in hits.items():
            yield self.finding(
                view,
                event,
                title=f"indicator match: {address} ({why})",
                contract=None,
                action=Action.BLOCK_ADDRESS,
                evidence={"address": address, "match": why},
            )
