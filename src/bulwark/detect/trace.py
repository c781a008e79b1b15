"""Raw ``callTracer`` (``withLog``) and ``prestateTracer`` (``diffMode``) JSON into typed values.

The callTracer nests logs inside frames with a ``position`` (how many child calls came before the
log); :func:`steps` flattens that into one chronological sequence so detectors can ask "what was
the pool's price when the lending market was called".
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, NotRequired, TypedDict

import msgspec

from bulwark.detect.base import SimulationFailed
from bulwark.detect.evm import ZERO, checksum, transfer
from bulwark.detect.model import Step
from bulwark.domain import Address, CallFrame, Hash32, Log, StateDiff, StorageChange, TxHash


class RawLog(TypedDict):
    address: str
    topics: list[str]
    data: str
    position: NotRequired[str | int]


class RawFrame(TypedDict):
    """A callTracer frame as plain JSON (``from`` is a Python keyword, so not a field here)."""

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


# The same shapes as msgspec Structs: a callTracer answer decoded straight into these (the screener
# asks its transport to, see :class:`bulwark.chain.rpc.Shaped`) builds no dict per frame or log and
# skips the fields nobody reads (``gas``, a log's ``index``); walking attributes is cheaper than
# ``dict.get`` too. Decoding plus parsing took ~36 us of a screened transaction's ~140 us.
# gc=False: decoded JSON cannot form a reference cycle.


class TraceLog(msgspec.Struct, gc=False):
    address: str
    topics: list[str] | None = None  # null and absent alike, as the dict reading took them
    data: str | None = None
    position: str | int | None = 0


class TraceFrame(
    msgspec.Struct,
    gc=False,
    rename={"sender": "from", "gas_used": "gasUsed", "revert_reason": "revertReason"},
):
    type: str
    sender: str
    to: str | None = None
    value: str | int | None = None
    input: str | None = None
    output: str | None = None
    gas_used: str | int | None = None
    error: str | None = None
    revert_reason: str | None = None
    calls: list[TraceFrame] | None = None
    logs: list[TraceLog] | None = None


_ZERO_HASH = Hash32("0x" + "00" * 32)


def _int(value: str | int | None) -> int:
    if value is None:
        return 0
    return value if isinstance(value, int) else int(value, 16) if value.startswith("0x") else int(value)


def _bytes(value: str | None) -> bytes:
    if not value:
        return b""
    return bytes.fromhex(value[2:]) if value[:2] == "0x" else bytes.fromhex(value)


_fromhex = bytes.fromhex
# A Step built as the tuple it is: NamedTuple's generated __new__ took twice as long, per call and log.
_step = tuple.__new__


def _frame(raw: TraceFrame, parent_failed: bool, out: _Walk, depth: int, ctx: Address | None) -> CallFrame:
    """Build the frame and, in the same walk, the chronological steps (into ``out.steps``)."""
    typ = raw.type.upper()
    to: Address | None = checksum(raw.to) if raw.to else None
    error = raw.error
    failed = parent_failed or error is not None
    context = ctx if typ in _DELEGATING else to
    steps = out.steps
    index = len(steps)
    steps.append(None)  # this frame's step, filled in once its children are built
    children = raw.calls
    logs = raw.logs
    built: list[CallFrame] = []
    if logs and children:
        # Interleave logs with the child calls by position (parsed once per log, not per child).
        placed = sorted((_int(lg.position), i, lg) for i, lg in enumerate(logs))
        li = 0
        for ci, child in enumerate(children):
            while li < len(placed) and placed[li][0] <= ci:
                out.log(placed[li][2], depth, context, failed)
                li += 1
            built.append(_frame(child, failed, out, depth + 1, context))
        for _, _, lg in placed[li:]:
            out.log(lg, depth, context, failed)
    elif children:
        for child in children:
            built.append(_frame(child, failed, out, depth + 1, context))
    elif logs:
        for lg in logs:
            out.log(lg, depth, context, failed)
    data, output, value, gas = raw.input, raw.output, raw.value, raw.gas_used
    frame = CallFrame(
        typ,
        checksum(raw.sender),
        to,
        # the node's hex, inline: a helper call per field was a tenth of the parse
        int(value, 16) if isinstance(value, str) and value[:2] == "0x" else _int(value),
        _fromhex(data[2:]) if data and data[:2] == "0x" else _bytes(data),
        _fromhex(output[2:]) if output and output[:2] == "0x" else _bytes(output),
        int(gas, 16) if isinstance(gas, str) and gas[:2] == "0x" else _int(gas),
        error,
        raw.revert_reason,
        tuple(built),
    )
    steps[index] = _step(Step, ("call", depth, context, frame, None, failed))
    return frame


_DELEGATING = frozenset({"DELEGATECALL", "CALLCODE"})


class _Walk:
    """The steps of one trace in execution order, with the logs numbered as they are met."""

    __slots__ = ("block_hash", "block_number", "log_index", "steps", "tx_hash")

    def __init__(self, tx_hash: TxHash, block_number: int, block_hash: Hash32) -> None:
        self.steps: list[Step | None] = []
        self.tx_hash, self.block_number, self.block_hash = tx_hash, block_number, block_hash
        self.log_index = 0

    def log(self, raw: TraceLog, depth: int, context: Address | None, failed: bool) -> None:
        data, topics = raw.data, raw.topics
        lg = Log(
            checksum(raw.address),
            tuple([t.lower() for t in topics]) if topics else (),  # type: ignore[misc]
            _fromhex(data[2:]) if data and data[:2] == "0x" else _bytes(data),
            self.block_number,
            self.block_hash,
            self.tx_hash,
            self.log_index,
        )
        self.log_index += 1
        self.steps.append(_step(Step, ("log", depth, context, None, lg, failed)))


def parse_call_trace(
    raw: TraceFrame | RawFrame, tx_hash: TxHash, block_number: int = -1, block_hash: Hash32 = _ZERO_HASH
) -> tuple[CallFrame, tuple[Step, ...]]:
    """The call tree and its steps. ``raw`` is a decoded :class:`TraceFrame` (the screener's
    transport decodes the node's answer into one) or the same JSON as plain dicts (other
    transports, a simulated chain of pending transactions, tests), converted here."""
    if not isinstance(raw, TraceFrame):
        try:
            raw = msgspec.convert(raw, TraceFrame)
        except msgspec.ValidationError as exc:
            raise SimulationFailed(f"the node's call trace of {tx_hash} is malformed: {exc}") from exc
    walk = _Walk(tx_hash, block_number, block_hash)
    root = _frame(raw, False, walk, 0, None)
    return root, tuple(walk.steps)  # type: ignore[arg-type]  # every placeholder is filled


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


# -- flash loans, from the call tree -------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Loan:
    """Value a contract let out and got back within one transaction: a flash loan, whoever lends.

    ``token`` is ``None`` for the native coin; ``lent_at``/``repaid_at`` index the steps."""

    lender: Address
    borrower: Address
    token: Address | None
    amount: int
    lent_at: int
    repaid_at: int


def flash_loans(steps: Sequence[Step]) -> list[Loan]:
    """Every borrow-and-repay in ``steps``: a contract that was called by another one sends value
    (tokens by their ``Transfer`` logs, or the native coin) to a contract that called it (directly
    or further up), or to a contract it then calls back before returning; and at least as much of
    the same value comes back to it later in the transaction. No list of lenders or selectors: the
    shape of the call tree is the signal. (A swap and its reverse on one pool is not a loan to the
    pool: the pool never called the trader.)"""
    stack: list[Step] = []
    ran: set[Address] = set()  # addresses whose code ran (contracts, not EOAs)
    # lender, recipient, asset, amount, step, lender's entry step (None once the shape is confirmed)
    lent: list[tuple[Address, Address, Address | None, int, int, Step | None]] = []
    owed: list[int] = []
    repaid: dict[int, int] = {}
    waiting: list[int] = []  # loans whose recipient must still be called back by the lender

    def credit(to: Address, token: Address | None, amount: int, at: int) -> None:
        for k, (lender, _, tok, _, i, _) in enumerate(lent):
            if amount <= 0:
                break
            if k in repaid or lender != to or tok != token or i >= at:
                continue
            taken = min(owed[k], amount)
            owed[k] -= taken
            amount -= taken
            if owed[k] == 0:
                repaid[k] = at

    def lend(lender: Address, to: Address, token: Address | None, amount: int, at: int) -> None:
        if amount <= 0 or to == lender:
            return
        # The lender's own frame, entered by a call from some contract (not the transaction's root).
        pos = next(
            (
                j
                for j in range(len(stack) - 1, 0, -1)
                if (fr := stack[j].frame) is not None and fr.to == lender and stack[j].context == lender
            ),
            None,
        )
        if pos is None:
            return
        upstream = any(s.context == to for s in stack[:pos])
        lent.append((lender, to, token, amount, at, None if upstream else stack[pos]))
        owed.append(amount)
        if not upstream:
            waiting.append(len(lent) - 1)

    for at, st in enumerate(steps):
        while stack and stack[-1].depth >= st.depth + (st.kind == "log"):
            stack.pop()
        if st.kind == "call":
            f = st.frame
            stack.append(st)
            if f is None or st.reverted:
                continue
            if f.to is not None and (f.input or f.calls):
                ran.add(f.to)
            if st.context is not None:
                ran.add(st.context)
            for k in list(waiting):
                lender, to, token, amount, i, entry = lent[k]
                if f.sender == lender and f.to == to and any(s is entry for s in stack):
                    lent[k] = (lender, to, token, amount, i, None)  # called back: a loan's shape
                    waiting.remove(k)
            if f.value and f.to is not None and f.type in ("CALL", "CALLCODE"):
                credit(f.to, None, f.value, at)
                if len(stack) > 1 and stack[-2].context == f.sender:
                    lend(f.sender, f.to, None, f.value, at)
        elif st.log is not None and not st.reverted:
            t = transfer(st.log)
            if t is None:
                continue
            token, src, dst, amount = t
            credit(dst, token, amount, at)
            if src != ZERO and any(s.context == src for s in stack):
                lend(src, dst, token, amount, at)
    return [
        Loan(lender, to, asset, amount, at, repaid[k])
        for k, (lender, to, asset, amount, at, entry) in enumerate(lent)
        if k in repaid and entry is None and to in ran
    ]


def parse_prestate(raw: dict[str, Any]) -> dict[Address, dict[int, int]]:
    """``prestateTracer`` (no diffMode): the pre-transaction value of every slot it touched."""
    out: dict[Address, dict[int, int]] = {}
    for key, account in (raw or {}).items():
        storage = (account or {}).get("storage") or {}
        if storage:
            out[checksum(key)] = {_int(slot): _int(value) for slot, value in storage.items()}
    return out
