"""Evidence from the attack's call trace: which functions of the target were entered and re-entered."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from bulwark.domain import CallFrame


@dataclass(frozen=True, slots=True)
class Frame:
    to: str
    selector: str | None  # "0x12345678"
    calls: tuple[Frame, ...]
    failed: bool


@dataclass(frozen=True, slots=True)
class TraceEvidence:
    entered: frozenset[str]  # selectors of the target entered at least once
    reentered: frozenset[str]  # selectors entered while the target was already on the stack
    outer_of_reentry: frozenset[str]  # selectors on the stack when a re-entry happened


def _from_json(raw: Mapping[str, Any]) -> Frame:
    data = str(raw.get("input") or "0x")
    sel = data[:10].lower() if len(data) >= 10 else None
    return Frame(
        to=str(raw.get("to") or "").lower(),
        selector=sel,
        calls=tuple(_from_json(c) for c in raw.get("calls") or []),
        failed=bool(raw.get("error")),
    )


def _from_frame(f: CallFrame) -> Frame:
    sel = "0x" + f.input[:4].hex() if len(f.input) >= 4 else None
    return Frame(str(f.to or "").lower(), sel, tuple(_from_frame(c) for c in f.calls), f.error is not None)


def parse(trace: CallFrame | Mapping[str, Any]) -> Frame:
    if isinstance(trace, CallFrame):
        return _from_frame(trace)
    if "result" in trace and isinstance(trace["result"], Mapping):  # a raw JSON-RPC response
        trace = trace["result"]
    return _from_json(trace)


def evidence(trace: CallFrame | Mapping[str, Any], selectors: set[str]) -> TraceEvidence:
    """What the trace shows about the contract whose functions have ``selectors``."""
    root = parse(trace)
    hits: Counter[str] = Counter()

    def count(f: Frame) -> None:
        if f.selector in selectors:
            hits[f.to] += 1
        for c in f.calls:
            count(c)

    count(root)
    if not hits:
        return TraceEvidence(frozenset(), frozenset(), frozenset())
    target = hits.most_common(1)[0][0]
    entered: set[str] = set()
    reentered: set[str] = set()
    outer: set[str] = set()

    def visit(f: Frame, stack: tuple[str, ...]) -> None:
        here = stack
        if f.to == target and f.selector:
            entered.add(f.selector)
            if stack:
                reentered.add(f.selector)
                outer.update(stack)
            here = (*stack, f.selector)
        for c in f.calls:
            # a direct child frame to the target from the target itself is a self-call, not re-entry
            visit(c, here if f.to != target or c.to != target else stack)

    visit(root, ())
    # The target also answers selectors that are not the contract's own functions (a proxy's admin
    # functions, a fallback, another facet): evidence names only the contract's functions.
    return TraceEvidence(
        frozenset(entered & selectors), frozenset(reentered & selectors), frozenset(outer & selectors)
    )
