"""Signature replay: the same 65-byte signature is accepted more than once by a protected contract,
within one transaction or across transactions (signatures seen in mined transactions are kept)."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterable

from pydantic import Field

from bulwark.detect.base import Detector, Params
from bulwark.detect.model import ChainView, TxEvent
from bulwark.domain import Address, Confidence, Finding, Severity, VulnClass


class ReplayParams(Params):
    memory: int = Field(default=100_000, ge=0)  # signatures remembered from mined transactions


class SignatureReplay(Detector):
    ARGUMENT = "signature-replay"
    HELP = "The same signature accepted twice by a protected contract"
    IMPACT = Severity.CRITICAL
    CONFIDENCE = Confidence.HIGH
    CLASS = VulnClass.SIGNATURE_REPLAY
    WIKI = "docs/detectors.md#signature-replay"
    PARAMS = ReplayParams

    def __init__(self, params: Params | None = None, *, severity: Severity | None = None) -> None:
        super().__init__(params, severity=severity)
        self._used: OrderedDict[tuple[Address, bytes], str] = OrderedDict()

    def __call__(self, view: ChainView, event: TxEvent) -> Iterable[Finding]:
        if not event.success:
            return
        p = self.params
        assert isinstance(p, ReplayParams)
        counts: dict[tuple[Address, bytes], int] = {}
        for step in event.calls():
            f = step.frame
            if f is None or step.reverted or f.type != "CALL" or f.to is None or f.error is not None:
                continue
            if not view.protocol.is_protected(f.to) or view.protocol.contracts[f.to].kind == "token":
                continue
            for sig in signatures(f.input[4:]):
                counts[(f.to, sig)] = counts.get((f.to, sig), 0) + 1
        for (contract, sig), n in counts.items():
            earlier = self._used.get((contract, sig))
            if n > 1 or (earlier is not None and earlier != event.tx.hash):
                yield self.finding(
                    view,
                    event,
                    title=f"signature accepted {n} time(s) by {view.protocol.contracts[contract].name}"
                    + (f", already used in {earlier}" if earlier else ""),
                    contract=contract,
                    evidence={"signature": "0x" + sig.hex(), "uses_in_tx": n, "earlier_tx": earlier},
                )
            if not event.pending and p.memory:
                self._used[(contract, sig)] = event.tx.hash
                while len(self._used) > p.memory:
                    self._used.popitem(last=False)


def signatures(args: bytes) -> list[bytes]:
    """65-byte ``bytes`` values in ABI-encoded arguments: a length word of 65 then the data."""
    out = []
    for i in range(0, max(len(args) - 32 * 3, 0) + 1, 32):
        if int.from_bytes(args[i : i + 32], "big") == 65 and len(args) >= i + 32 + 65:
            out.append(args[i + 32 : i + 32 + 65])
    return out
