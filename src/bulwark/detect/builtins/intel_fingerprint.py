"""Known exploit by shape: a transaction deploys a contract whose normalised runtime code matches a
known exploit's fingerprint, or calls the protected contracts in a known attack's selector order.

An exact code hash changes with every redeployment that bakes another owner or target into an
immutable; the fingerprint (:func:`bulwark.chain.bytecode.bytecode_fingerprint`: metadata cut,
PUSH20/PUSH32 operands zeroed) does not. The fingerprints and call patterns come from the
thresholds, e.g. filled from verified threat intelligence by the composition root.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from pydantic import Field

from bulwark.chain.bytecode import bytecode_fingerprint
from bulwark.detect.base import About, Detector, Params
from bulwark.detect.model import ChainView, TxEvent
from bulwark.domain import Action, Confidence, Finding, Severity, VulnClass


class FingerprintParams(Params):
    fingerprints: frozenset[str] = Field(default_factory=frozenset)  # 0x keccak of normalised runtime
    call_patterns: tuple[tuple[str, ...], ...] = ()  # ordered 0x selectors called on protected contracts


def _contains_in_order(seq: Sequence[str], pattern: Sequence[str]) -> bool:
    it = iter(seq)
    return all(any(s == want for s in it) for want in pattern)


class ExploitFingerprint(Detector):
    """Deploys a contract with a known exploit's normalised code, or calls in a known attack's order."""

    ABOUT = About("exploit-fingerprint", VulnClass.KNOWN_ATTACKER, trace_only=True)
    IMPACT, CONFIDENCE = Severity.CRITICAL, Confidence.HIGH
    params: FingerprintParams

    def __call__(self, view: ChainView, event: TxEvent) -> Iterable[Finding]:
        if not self.params.fingerprints and not self.params.call_patterns:
            return ()  # nothing to match (a plain return: no generator per transaction)
        return self._judge(view, event)

    def _judge(self, view: ChainView, event: TxEvent) -> Iterable[Finding]:
        p = self.params
        known = {f.lower() for f in p.fingerprints}
        called: list[str] = []
        for step in event.calls():
            f = step.frame
            if f is None:
                continue
            if f.type in ("CREATE", "CREATE2") and f.output and f.to is not None:
                fp = bytecode_fingerprint(f.output)
                if fp in known:
                    yield self.finding(
                        view,
                        event,
                        title=f"deploys a known exploit contract at {f.to} (fingerprint {fp[:18]}…)",
                        contract=None,
                        action=Action.PAUSE,
                        evidence={"address": f.to, "fingerprint": fp, "deployer": f.sender},
                    )
            elif (
                f.type in ("CALL", "DELEGATECALL", "CALLCODE")
                and len(f.input) >= 4
                and view.protocol.is_protected(f.to)
            ):
                sel = "0x" + f.input[:4].hex()
                if not called or called[-1] != sel:
                    called.append(sel)
        for pattern in p.call_patterns:
            wanted = [s.lower() for s in pattern]
            if len(wanted) >= 2 and _contains_in_order(called, wanted):
                yield self.finding(
                    view,
                    event,
                    title=f"calls the protocol in a known attack's order ({', '.join(wanted)})",
                    contract=None,
                    action=Action.PAUSE,
                    evidence={"pattern": wanted, "called": called},
                )
                break
