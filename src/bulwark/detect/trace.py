"""Raw ``callTracer`` (``withLog``) and ``prestateTracer`` (``diffMode``) JSON into typed values.

The callTracer nests logs inside frames with a ``position`` (how many child calls came before the
log); :func:`steps` flattens that into one chronological sequence so detectors can ask "what was
the pool's price when the lending market was called".
"""

from __future__ import annotations

from typing import Any, NotRequired, TypedDict

from bulwark.detect.evm import checksum
from bulwark.detect.model import Step
from bulwark.domain import Address, CallFrame, Hash32, Log, StateDiff, StorageChange, TxHash


class RawLog(TypedDict):
    address: str
    topics: list[str]
    data: str
    position: NotRequired[str | int]


class RawFrame(TypedDict):
    type: str
    to: NotRequired[str]
    value: NotRequired[str]
    input: NotRequired[str]
    output: NotRequired[str]
    gasUsed: NotRequired[str]
    error: NotRequired[str]
    revertReason: NotRequired[str]
    calls: NotRequired[list[RawFrame]]
    logs: NotRequired[list[RawLog]]


_FROM = "from"  # a Python keyword, so not a TypedDict field name
_ZERO_HASH = Hash32("0x" + "00" * 32)


def _int(value: str | int | None) -> int:
    if value is None:
        return 0
    return value if isinstance(value, int) else int(value, 16) if value.startswith("0x") else int(value)


def _bytes(value: str | None) -> bytes:
    if not value or value == "0x":
        return b""
    return bytes.fromhex(value[2:] if value.startswith("0x") else value)


def _addr(value: str | None) -> Address | None:
    return checksum(value) if value else None


def _frame(
    raw: RawFrame, parent_failed: bool, sink: list[tuple[Any, ...]], depth: int, ctx: Address | None
) -> CallFrame:
    """Build the frame and, in the same walk, the chronological steps (into ``sink``)."""
    typ = raw["type"].upper()
    to = _addr(raw.get("to"))
    failed = parent_failed or "error" in raw
    context = ctx if typ in ("DELEGATECALL", "CALLCODE") else to
    index = len(sink)
    sink.append(("call", depth, context, None, failed))
    children = raw.get("calls") or []
    logs = sorted(raw.get("logs") or [], key=lambda lg: _int(lg.get("position", 0)))
    built: list[CallFrame] = []
    li = 0
    for ci, child in enumerate(children):
        while li < len(logs) and _int(logs[li].get("position", 0)) <= ci:
            sink.append(("log", depth, context, logs[li], failed))
            li += 1
        built.append(_frame(child, failed, sink, depth + 1, context))
    for lg in logs[li:]:
        sink.append(("log", depth, context, lg, failed))
    frame = CallFrame(
        type=typ,
        sender=checksum(raw[_FROM]),  # type: ignore[literal-required]
        to=to,
        value=_int(raw.get("value")),
        input=_bytes(raw.get("input")),
        output=_bytes(raw.get("output")),
        gas_used=_int(raw.get("gasUsed")),
        error=raw.get("error"),
        revert_reason=raw.get("revertReason"),
        calls=tuple(built),
    )
    sink[index] = ("call", depth, context, frame, failed)
    return frame


def parse_call_trace(
    raw: RawFrame, tx_hash: TxHash, block_number: int = -1, block_hash: Hash32 = _ZERO_HASH
) -> tuple[CallFrame, tuple[Step, ...]]:
    sink: list[tuple[Any, ...]] = []
    root = _frame(raw, False, sink, 0, None)
    steps = []
    log_index = 0
    for kind, depth, context, item, failed in sink:
        if kind == "call":
            steps.append(Step("call", depth, context, frame=item, reverted=failed))
        else:
            log = Log(
                address=checksum(item["address"]),
                topics=tuple(Hash32(t.lower()) for t in item.get("topics") or ()),
                data=_bytes(item.get("data")),
                block_number=block_number,
                block_hash=block_hash,
                tx_hash=tx_hash,
                log_index=log_index,
            )
            log_index += 1
            steps.append(Step("log", depth, context, log=log, reverted=failed))
    return root, tuple(steps)


def parse_state_diff(raw: dict[str, Any]) -> StateDiff:
    """``prestateTracer`` diffMode: ``{"pre": {addr: {...}}, "post": {addr: {...}}}``."""
    pre: dict[str, Any] = raw.get("pre") or {}
    post: dict[str, Any] = raw.get("post") or {}
    balances: dict[Address, tuple[int, int]] = {}
    nonces: dict[Address, tuple[int, int]] = {}
    storage: dict[Address, tuple[StorageChange, ...]] = {}
    code_changed: set[Address] = set()
    for key in set(pre) | set(post):
        a, b = pre.get(key) or {}, post.get(key) or {}
        addr = checksum(key)
        if "balance" in b:
            balances[addr] = (_int(a.get("balance", "0x0")), _int(b["balance"]))
        if "nonce" in b:
            nonces[addr] = (_int(a.get("nonce", 0)), _int(b["nonce"]))
        if "code" in b and b.get("code") != a.get("code"):
            code_changed.add(addr)
        sa, sb = a.get("storage") or {}, b.get("storage") or {}
        changes = tuple(
            StorageChange(Hash32(slot), sa.get(slot), sb.get(slot)) for slot in sorted(set(sa) | set(sb))
        )
        if changes:
            storage[addr] = changes
    return StateDiff(balances=balances, storage=storage, code_changed=frozenset(code_changed), nonces=nonces)
