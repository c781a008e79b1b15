"""Unchecked return: a protected contract's ``transfer``/``transferFrom`` answered ``false`` and the
protected contract carried on (its frame succeeded). Standard tokens revert instead, so a successful
caller after a ``false`` means it credited something it never received (or never paid)."""

from __future__ import annotations

from collections.abc import Iterable

from bulwark.detect.base import About, Detector
from bulwark.detect.evm import selector
from bulwark.detect.model import ChainView, TxEvent
from bulwark.domain import CallFrame, Confidence, Finding, Severity, VulnClass

TOKEN_MOVES = frozenset(
    {selector("transfer(address,uint256)"), selector("transferFrom(address,address,uint256)")}
)

_MOVES = frozenset(bytes.fromhex(s[2:]) for s in TOKEN_MOVES)
_FALSE = bytes(32)  # an ABI-encoded ``false``: 32 zero bytes


class UncheckedReturn(Detector):
    """A protected contract continues after a token transfer returned false."""

    ABOUT = About("unchecked-return", VulnClass.UNCHECKED_RETURN, trace_only=True)
    IMPACT, CONFIDENCE = Severity.CRITICAL, Confidence.HIGH

    def __call__(self, view: ChainView, event: TxEvent) -> Iterable[Finding]:
        if event.trace is None or not event.success:
            return ()
        # Cheap exit (most transactions): no transfer in the whole tree answered false.
        for s in event.calls():
            f = s.frame
            if f is not None and f.output == _FALSE and f.input[:4] in _MOVES:
                return self._judge(view, event, event.trace)
        return ()

    def _judge(self, view: ChainView, event: TxEvent, trace: CallFrame) -> Iterable[Finding]:
        reported: set[str] = set()
        for caller, call in _false_transfers(trace, None, view):
            if caller in reported:
                continue
            reported.add(caller)
            yield self.finding(
                view,
                event,
                title=f"{view.protocol.contracts[caller].name} ignored a token transfer that returned false",  # type: ignore[index]
                contract=caller,  # type: ignore[arg-type]
                evidence={
                    "token": call.to,
                    "function": call.selector,
                    "input": "0x" + call.input[:100].hex(),
                },
            )


def _false_transfers(frame: CallFrame, ctx: str | None, view: ChainView) -> Iterable[tuple[str, CallFrame]]:
    if frame.error is not None:
        return
    context = ctx if frame.type in ("DELEGATECALL", "CALLCODE") else frame.to
    for child in frame.calls:
        if (
            context is not None
            and view.protocol.is_protected(context)  # type: ignore[arg-type]
            and child.type == "CALL"
            and child.error is None
            and child.selector in TOKEN_MOVES
            and len(child.output) == 32
            and not any(child.output)
        ):
            yield context, child
        yield from _false_transfers(child, context, view)
