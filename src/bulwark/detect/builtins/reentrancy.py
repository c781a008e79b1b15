"""Reentrancy: a protected contract is called again, through an outside contract, while its frame is
still running. Protocol-internal call chains are not counted. A view (STATICCALL) re-entry counts
only when another protected contract makes it (read-only reentrancy: the protocol itself reads a
price, a rate or a balance of a contract that is mid-update and has handed control outside)."""

from __future__ import annotations

from collections.abc import Iterable

from pydantic import Field

from bulwark.detect.base import About, Detector, Params
from bulwark.detect.model import ChainView, TxEvent
from bulwark.domain import Address, CallFrame, Confidence, Finding, Severity, VulnClass


class ReentrancyParams(Params):
    # Plain tokens do not call back; everything else, flash lenders included (a callback that
    # re-enters the lender's deposit is the classic side-entrance), is tracked.
    exempt_kinds: tuple[str, ...] = Field(default=("token",))


class Reentrancy(Detector):
    """A protected contract re-entered from an outside contract while its frame is active."""

    ABOUT = About("reentrancy", VulnClass.REENTRANCY, trace_only=True)
    IMPACT, CONFIDENCE = Severity.CRITICAL, Confidence.HIGH
    params: ReentrancyParams

    def setup(self) -> None:
        self._sets: tuple[object, set[Address], set[Address]] = (None, set(), set())

    def __call__(self, view: ChainView, event: TxEvent) -> Iterable[Finding]:
        if event.trace is None or not event.success:
            return ()
        p = self.params
        if self._sets[0] is not view.protocol:  # derived once per protocol, not per transaction
            tracked = {a for a, c in view.protocol.contracts.items() if c.kind not in p.exempt_kinds}
            self._sets = (view.protocol, tracked, set(view.protocol.contracts))
        tracked = self._sets[1]
        # Re-entry needs a tracked contract entered twice by a state-changing call (a delegate or
        # static frame never counts below): most transactions enter each once.
        # A static frame into a contract entered before, made by another protected contract, may
        # be a read-only re-entry.
        entered: set[Address | None] = set()
        inside = self._sets[2]
        for s in event.calls():
            if s.context in tracked and s.frame is not None:
                if s.frame.type not in _NOT_ENTRIES:
                    if s.context in entered:
                        return self._judge(view, event, event.trace)
                    entered.add(s.context)
                elif (
                    s.frame.type == "STATICCALL"
                    and s.context in entered
                    and s.frame.sender in inside
                    and s.frame.sender != s.context
                ):
                    return self._judge(view, event, event.trace)
        return ()

    def _judge(self, view: ChainView, event: TxEvent, trace: CallFrame) -> Iterable[Finding]:
        _, tracked, inside = self._sets
        seen: set[tuple[Address, bool]] = set()
        names = view.protocol.contracts
        for target, outer, inner in _reentries(trace, None, (), tracked, inside):
            read = inner.type == "STATICCALL"
            if (target, read) in seen:
                continue
            seen.add((target, read))
            title = (
                f"{names[target].name} read by {names[inner.sender].name} while its own call was still "
                "running and had called outside (read-only reentrancy)"
                if read
                else f"{names[target].name} re-entered during its own call"
            )
            yield self.finding(
                view,
                event,
                title=title,
                contract=target,
                function=outer.selector,
                selectors=tuple(s for s in {outer.selector, inner.selector} if s is not None),
                evidence={
                    "outer_call": outer.selector,
                    "reentrant_call": inner.selector,
                    "reentered_from": inner.sender,
                },
            )


_NOT_ENTRIES = frozenset({"DELEGATECALL", "CALLCODE", "STATICCALL"})


def _reentries(
    frame: CallFrame,
    ctx: Address | None,
    active: tuple[tuple[Address, CallFrame, bool], ...],
    tracked: set[Address],
    inside: set[Address],
) -> Iterable[tuple[Address, CallFrame, CallFrame]]:
    """Yield (contract, outer frame, re-entering frame) for each successful re-entry: a
    state-changing one from anywhere, or a view read by another protected contract.

    ``active`` holds (contract, frame, outside-on-path) for every running tracked frame above this
    one; outside-on-path turns true once the path passes through a contract the protocol does not own.
    """
    if frame.error is not None:
        return
    context = ctx if frame.type in ("DELEGATECALL", "CALLCODE") else frame.to
    if context is not None and frame.type not in ("DELEGATECALL", "CALLCODE"):
        if context not in inside:
            active = tuple((a, f, True) for a, f, _ in active)
        elif context in tracked:
            static = frame.type == "STATICCALL"
            if not static or (frame.sender in inside and frame.sender != context):
                for addr, outer, went_outside in active:
                    if addr == context and went_outside:
                        yield context, outer, frame
                        break
            if not static:
                active = (*active, (context, frame, False))
    for child in frame.calls:
        yield from _reentries(child, context, active, tracked, inside)
