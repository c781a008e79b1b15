"""Signature replay: a signature (or a signed digest) accepted more than once by a protected
contract, within one transaction or after an earlier mined transaction used it.

Signatures are recognised in any encoding:

* from the called function's ABI (when the contract's ABI is configured): ``bytes`` arguments of
  65 bytes (r, s, v) or 64 bytes (EIP-2098 compact: r, yParity|s), and ``(uint8 v, bytes32 r,
  bytes32 s)`` runs of arguments, as in ``permit(owner, spender, value, deadline, v, r, s)``,
  nested in tuples and arrays too;
* without an ABI: a 65-byte ``bytes`` argument found from the calldata's shape;
* from the call trace, whatever the encoding: a call to the ``ecrecover`` precompile (0x01) made
  on behalf of a protected contract, recovering a signer other than the transaction's sender. The
  digest it recovered from is what was authorised; the same (contract, digest, signer) accepted in
  two separate calls, or again after a mined transaction, is reuse.

Signatures are compared as (r, s) with ``s`` folded into the lower half of the curve order, so a
malleated copy (``s -> n - s``, ``v`` flipped) is the same signature.

A use that only a *pending* transaction made earlier is weaker evidence: both pending transactions
are simulated on the same state, so a correctly protected contract accepts each of them alone (a
copied or rebroadcast meta-transaction). That is reported at medium severity, as an alert.
"""

from __future__ import annotations

import re
from collections import OrderedDict
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from eth_abi.abi import decode
from pydantic import Field

from bulwark.detect.base import About, Detector, Params
from bulwark.detect.builtins.rules import _abi_type
from bulwark.detect.evm import checksum, selector
from bulwark.detect.model import ChainView, ContractInfo, ProtocolModel, Step, TxEvent
from bulwark.domain import (
    Action,
    Address,
    CallFrame,
    Confidence,
    Finding,
    Selector,
    Severity,
    TxHash,
    VulnClass,
)

ECRECOVER = Address("0x0000000000000000000000000000000000000001")
IS_VALID_SIGNATURE = selector("isValidSignature(bytes32,bytes)")  # EIP-1271 contract signers
SECP256K1_N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141
_LOW_255 = (1 << 255) - 1
_MIN_SHAPED = 4 + 32 + 32 + 65  # selector, offset, length, 65 bytes: the shortest shaped signature


class ReplayParams(Params):
    memory: int = Field(default=100_000, ge=0)  # signatures remembered from mined transactions
    pending_memory: bool = True  # also remember pending transactions' uses (medium alert on reuse)


@dataclass(frozen=True, slots=True)
class _Use:
    tx: TxHash
    sender: Address
    nonce: int
    pending: bool


# (contract, how, value): how is "signature" (canonical r||s) or "digest" (digest||signer)
_Key = tuple[Address, str, bytes]


class SignatureReplay(Detector):
    """The same signature (any encoding) or signed digest accepted twice by a protected contract."""

    ABOUT = About("signature-replay", VulnClass.SIGNATURE_REPLAY, trace_only=True)
    IMPACT, CONFIDENCE = Severity.CRITICAL, Confidence.HIGH
    params: ReplayParams

    def setup(self) -> None:
        self._used: OrderedDict[_Key, _Use] = OrderedDict()
        self._carriers: tuple[object, dict[Address, tuple[dict[bytes, bool], bool]]] = (None, {})

    def __call__(self, view: ChainView, event: TxEvent) -> Iterable[Finding]:
        if not event.success:
            return ()
        if self._carriers[0] is not view.protocol:  # derived once per protocol, not per transaction
            self._carriers = (view.protocol, _carriers(view.protocol))
        if not _may_use(self._carriers[1], event):
            return ()  # nothing in it can carry or check a signature: no use, nothing remembered
        return self._judge(view, event)

    def _judge(self, view: ChainView, event: TxEvent) -> Iterable[Finding]:
        p = self.params
        entries: dict[_Key, set[int]] = {}  # key -> the calls into the contract that accepted it
        functions: dict[Address, Selector | None] = {}
        for key, entry, sel in _uses(view, event):
            entries.setdefault(key, set()).add(entry)
            functions.setdefault(key[0], sel)
        by_contract: dict[Address, list[tuple[_Key, int, _Use | None]]] = {}
        this = _Use(event.tx.hash, event.tx.sender, event.tx.nonce, event.pending)
        for key, calls in entries.items():
            earlier = self._used.get(key)
            if earlier is not None and (
                earlier.tx == this.tx or (earlier.sender == this.sender and earlier.nonce == this.nonce)
            ):
                earlier = None  # the same transaction seen again, or its replacement (same nonce)
            if len(calls) > 1 or earlier is not None:
                by_contract.setdefault(key[0], []).append((key, len(calls), earlier))
            if (
                p.memory
                and (not event.pending or p.pending_memory)
                and (key not in self._used or (self._used[key].pending and not event.pending))
            ):
                self._used[key] = this
                self._used.move_to_end(key)
                while len(self._used) > p.memory:
                    self._used.popitem(last=False)
        for contract, reused in by_contract.items():
            certain = any(n > 1 or (e is not None and not e.pending) for _, n, e in reused)
            earliest = next((e for _, _, e in reused if e is not None and not e.pending), None) or next(
                (e for _, _, e in reused if e is not None), None
            )
            uses = max(n for _, n, _ in reused)
            name = view.protocol.contracts[contract].name
            yield self.finding(
                view,
                event,
                title=f"signature accepted {uses} time(s) by {name}"
                + (
                    f", already used in {'pending ' if earliest.pending else ''}{earliest.tx}"
                    if earliest
                    else ""
                ),
                contract=contract,
                function=functions.get(contract),
                severity=None if certain else Severity.MEDIUM,
                confidence=None if certain else Confidence.MEDIUM,
                action=Action.PAUSE if certain else Action.ALERT,
                evidence={
                    "signatures": ["0x" + k[2].hex() for k, _, _ in reused if k[1] == "signature"],
                    "digests": ["0x" + k[2][:32].hex() for k, _, _ in reused if k[1] == "digest"],
                    "signers": [checksum("0x" + k[2][32:].hex()) for k, _, _ in reused if k[1] == "digest"],
                    "uses_in_tx": uses,
                    "earlier_tx": earliest.tx if earliest else None,
                    "earlier_pending": earliest.pending if earliest else None,
                },
            )


def _uses(view: ChainView, event: TxEvent) -> Iterator[tuple[_Key, int, Selector | None]]:
    """Every signature use in the transaction: (key, index of the accepting call, its selector)."""
    protocol = view.protocol
    stack: list[tuple[int, Step]] = []  # (step index, step) of the enclosing calls
    for index, step in enumerate(event.steps):
        if step.kind != "call" or step.frame is None:
            continue
        while stack and stack[-1][1].depth >= step.depth:
            stack.pop()
        stack.append((index, step))
        f = step.frame
        if step.reverted or f.error is not None:
            continue
        if any(s.frame is not None and s.frame.type == "STATICCALL" for _, s in stack[:-1]):
            continue  # a view that checks a signature consumes nothing
        if f.type == "CALL" and f.to is not None and protocol.is_protected(f.to):
            info = protocol.contracts[f.to]
            sigs = calldata_signatures(info, f.input)
            # A typed 64/65-byte value or (v, r, s) counts when the call checks a signature: bytes
            # that merely look like one (a payload passed twice) are not a replay.
            if sigs and (sigs[0][0] or _verifies(f)):
                for _, sig in sigs:
                    yield (f.to, "signature", sig), index, f.selector
        if f.to == ECRECOVER and len(f.input) >= 128 and len(f.output) == 32:
            signer = f.output[12:]
            if not any(signer) or checksum("0x" + signer.hex()) == event.tx.sender:
                continue
            # The protected contract on whose behalf it ran, and the call into it that accepted it.
            for i, s in reversed(stack[:-1]):
                ctx = s.context
                if ctx is not None and protocol.is_protected(ctx):
                    entry = next(
                        (
                            j
                            for j, t in reversed(stack[:-1])
                            if t.frame is not None and t.frame.type == "CALL" and t.frame.to == ctx
                        ),
                        i,
                    )
                    frame = event.steps[entry].frame
                    yield (ctx, "digest", f.input[:32] + signer), entry, (frame.selector if frame else None)
                    break


def _carriers(protocol: ProtocolModel) -> dict[Address, tuple[dict[bytes, bool], bool]]:
    """Per protected contract: selector (calldata's first four bytes) -> can its arguments hold a
    signature (from the ABI), and whether a function not in the ABI is read by its shape (not on
    tokens): what the cheap exit asks of each call, derived once per protocol."""
    return {
        a: ({bytes.fromhex(s[2:]): t is not None for s, t in _abi_inputs(c.abi).items()}, c.kind != "token")
        for a, c in protocol.contracts.items()
    }


def _may_use(carriers: Mapping[Address, tuple[dict[bytes, bool], bool]], event: TxEvent) -> bool:
    """Can :func:`_uses` find anything? An ecrecover call, or a call into a protected contract
    whose arguments can hold a signature: by its ABI, or long enough for a 65-byte ``bytes``
    value when the function is not in the ABI (without decoding anything)."""
    for step in event.calls():
        f = step.frame
        if f is None or f.to is None:
            continue
        if f.to == ECRECOVER:
            return True
        known = carriers.get(f.to)
        if known is not None:
            data = f.input
            if len(data) < 4:
                continue
            carries = known[0].get(data[:4])
            if carries or (carries is None and known[1] and len(data) >= _MIN_SHAPED):
                return True
    return False


def _verifies(frame: CallFrame) -> bool:
    return any(c.to == ECRECOVER or c.selector == IS_VALID_SIGNATURE for _, c in frame.walk())


def calldata_signatures(info: ContractInfo, data: bytes) -> list[tuple[bool, bytes]]:
    """(found from the shape, canonical (r, s)) of the signatures among a call's arguments:
    typed from the ABI when the function is in it, else 65-byte ``bytes`` values found from the
    shape (not on tokens, whose arguments are amounts)."""
    if len(data) < 4:
        return []
    table = _abi_inputs(info.abi)
    sel = "0x" + data[:4].hex()
    if sel in table:
        types = table[sel]
        if types is None:  # no argument can hold a signature: nothing to decode
            return []
        if not _may_be_signed(types, data):
            return []
        try:
            values = decode(list(types), data[4:])
        except Exception:  # calldata that does not match the ABI: nothing typed to read
            return []
        out: list[bytes] = []
        _walk(list(types), list(values), out)
        return [(False, sig) for sig in out]
    if info.kind == "token":
        return []
    return [(True, canonical_65(s) or s) for s in signatures(data[4:])]


def _walk(types: Sequence[str], values: Sequence[Any], out: list[bytes]) -> None:
    for i, (typ, value) in enumerate(zip(types, values, strict=True)):
        if typ == "bytes" and isinstance(value, bytes):
            sig = (
                canonical_65(value) if len(value) == 65 else canonical_64(value) if len(value) == 64 else None
            )
            if sig is not None:
                out.append(sig)
        elif typ.endswith("]") and isinstance(value, list | tuple):
            inner = typ[: typ.rindex("[")]
            _walk([inner] * len(value), list(value), out)
        elif typ.startswith("(") and isinstance(value, tuple):
            _walk(_split(typ[1 : typ.rindex(")")]), list(value), out)
        elif (
            typ == "uint8"
            and value in (0, 1, 27, 28)
            and types[i + 1 : i + 3] == ["bytes32", "bytes32"]
            and len(values) > i + 2
        ):
            sig = canonical(int.from_bytes(values[i + 1], "big"), int.from_bytes(values[i + 2], "big"))
            if sig is not None:
                out.append(sig)


def _split(inner: str) -> list[str]:
    """Top-level components of a tuple type's inside: ``a,(b,c)[],d`` -> ``a``, ``(b,c)[]``, ``d``."""
    parts, depth, start = [], 0, 0
    for i, ch in enumerate(inner):
        depth += ch == "("
        depth -= ch == ")"
        if ch == "," and depth == 0:
            parts.append(inner[start:i])
            start = i + 1
    if inner:
        parts.append(inner[start:])
    return parts


_ABI_CACHE: dict[int, tuple[object, dict[str, tuple[str, ...] | None]]] = {}
# A dynamic ``bytes`` anywhere (not bytesN), or a uint8 next to bytes32 values (v, r, s).
_DYNAMIC_BYTES = re.compile(r"\bbytes(?![0-9])")


# Input types -> the head slots of their ``bytes`` arguments, when a signature among them can only
# be a top-level 64/65-byte ``bytes`` value (every argument one 32-byte head slot, no uint8 for v,
# r, s); None when it could be anywhere else (decoded in full).
_BYTES_AT: dict[tuple[str, ...], tuple[int, ...] | None] = {}


def _bytes_heads(types: tuple[str, ...]) -> tuple[int, ...] | None:
    flat = ",".join(types)
    if ("uint8" in flat and "bytes32" in flat) or any("[" in t or "(" in t for t in types):
        return None
    return tuple(i for i, t in enumerate(types) if t == "bytes")


def _may_be_signed(types: tuple[str, ...], data: bytes) -> bool:
    """Can decoding ``data`` (a call's calldata) give a signature? False only when every ``bytes``
    argument's length word, read where its head points as the ABI decoder reads it, is neither 64
    nor 65 (a necessary condition, far cheaper than eth_abi: most such arguments are payloads)."""
    heads = _BYTES_AT.get(types)
    if heads is None:
        return True
    args = data[4:]
    for i in heads:
        if len(args) < 32 * i + 32:
            return True  # a short head: let the decoder judge it
        at = int.from_bytes(args[32 * i : 32 * i + 32], "big")
        if len(args) < at + 32 or int.from_bytes(args[at : at + 32], "big") in (64, 65):
            return True
    return False


def _may_hold_signature(types: Sequence[str]) -> bool:
    flat = ",".join(types)
    return bool(_DYNAMIC_BYTES.search(flat)) or ("uint8" in flat and "bytes32" in flat)


def _abi_inputs(abi: Sequence[Mapping[str, Any]]) -> dict[str, tuple[str, ...] | None]:
    """Selector -> input types of each function in ``abi``, or None when no argument can hold a
    signature (computed once per configured ABI: decoding every call's arguments with eth_abi was
    the largest cost of screening the protocol's own traffic)."""
    if not abi:
        return {}
    hit = _ABI_CACHE.get(id(abi))
    if hit is not None and hit[0] is abi:
        return hit[1]
    table: dict[str, tuple[str, ...] | None] = {}
    for item in abi:
        if item.get("type") == "function":
            types = tuple(_abi_type(i) for i in item.get("inputs", ()))
            table[selector(f"{item['name']}({','.join(types)})")] = (
                types if _may_hold_signature(types) else None
            )
            _BYTES_AT[types] = _bytes_heads(types)
    _ABI_CACHE[id(abi)] = (abi, table)
    return table


def canonical(r: int, s: int) -> bytes | None:
    if not (0 < r < SECP256K1_N and 0 < s < SECP256K1_N):
        return None
    s = min(s, SECP256K1_N - s)  # the malleated twin is the same signature
    return r.to_bytes(32, "big") + s.to_bytes(32, "big")


def canonical_65(sig: bytes) -> bytes | None:
    return canonical(int.from_bytes(sig[:32], "big"), int.from_bytes(sig[32:64], "big"))


def canonical_64(sig: bytes) -> bytes | None:
    """EIP-2098: r, then yParity in the top bit and s below it."""
    return canonical(int.from_bytes(sig[:32], "big"), int.from_bytes(sig[32:64], "big") & _LOW_255)


def signatures(args: bytes) -> list[bytes]:
    """65-byte ``bytes`` values in ABI-encoded arguments: a length word of 65 then the data."""
    out = []
    for i in range(0, max(len(args) - 32 * 3, 0) + 1, 32):
        if int.from_bytes(args[i : i + 32], "big") == 65 and len(args) >= i + 32 + 65:
            out.append(args[i + 32 : i + 32 + 65])
    return out
