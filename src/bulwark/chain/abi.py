"""Just enough ABI handling to deploy, call and explain a revert, from an ``abi`` list of dicts.

Takes the compiler's output shape (a list of ABI entries) so this package never depends on the
compiler module.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from functools import lru_cache
from typing import Any

from eth_abi.abi import decode, encode
from eth_utils.crypto import keccak

from bulwark.errors import ChainError

AbiEntry = Mapping[str, Any]
Abi = Sequence[AbiEntry]

ERROR_STRING_SELECTOR = bytes.fromhex("08c379a0")  # Error(string)
PANIC_SELECTOR = bytes.fromhex("4e487b71")  # Panic(uint256)
_PANIC_CODES = {
    0x01: "assertion failed",
    0x11: "arithmetic overflow or underflow",
    0x12: "division or modulo by zero",
    0x21: "invalid enum value",
    0x22: "bad storage byte array",
    0x31: "pop on empty array",
    0x32: "array index out of bounds",
    0x41: "out of memory",
    0x51: "call to a zero-initialised function",
}


def _type_str(param: Mapping[str, Any]) -> str:
    """Canonical type of one ABI parameter; tuples spell out their components."""
    typ = str(param["type"])
    if typ.startswith("tuple"):
        inner = ",".join(_type_str(c) for c in param.get("components", ()))
        return f"({inner}){typ[len('tuple') :]}"
    return typ


def input_types(entry: AbiEntry) -> list[str]:
    return [_type_str(p) for p in entry.get("inputs", ())]


def output_types(entry: AbiEntry) -> list[str]:
    return [_type_str(p) for p in entry.get("outputs", ())]


def signature(entry: AbiEntry) -> str:
    return f"{entry['name']}({','.join(input_types(entry))})"


def selector(entry: AbiEntry) -> bytes:
    return _selector_of(signature(entry))


@lru_cache(maxsize=4096)
def _selector_of(sig: str) -> bytes:
    # keccak per call was most of encoding a short call (benign traffic encodes thousands)
    return keccak(text=sig)[:4]


def find_function(abi: Abi, name: str, arg_count: int | None = None) -> AbiEntry:
    """The function ``name`` (or ``name(types)``), picked among overloads by argument count."""
    by_signature = "(" in name  # only then spell out each entry's signature (the slow part)
    candidates = [
        e
        for e in abi
        if e.get("type") == "function"
        and (signature(e) == name if by_signature else e.get("name") == name)
        and (arg_count is None or len(e.get("inputs", ())) == arg_count)
    ]
    if len(candidates) != 1:
        what = "no" if not candidates else "more than one"
        raise ChainError(f"the ABI has {what} function {name!r} taking {arg_count} arguments")
    return candidates[0]


def encode_call(abi: Abi, name: str, *args: Any) -> bytes:
    """Calldata for ``name(*args)``."""
    entry = find_function(abi, name, len(args))
    return selector(entry) + encode(input_types(entry), list(args))


def decode_result(abi: Abi, name: str, data: bytes, arg_count: int | None = None) -> Any:
    """The return value of ``name``: a single value, or a tuple when it returns several."""
    values = decode(output_types(find_function(abi, name, arg_count)), data)
    return values[0] if len(values) == 1 else tuple(values)


def encode_deploy(abi: Abi, bytecode: bytes, *args: Any) -> bytes:
    """Init code followed by the ABI-encoded constructor arguments."""
    ctor = next((e for e in abi if e.get("type") == "constructor"), None)
    types = input_types(ctor) if ctor is not None else []
    if len(types) != len(args):
        raise ChainError(f"the constructor takes {len(types)} arguments, {len(args)} given")
    return bytes(bytecode) + (encode(types, list(args)) if types else b"")


def decode_revert(data: bytes, abi: Abi | None = None) -> str:
    """A human reading of revert data: the Error(string) text, a Panic code, or a custom error."""
    if not data:
        return "reverted without a reason"
    head, body = data[:4], data[4:]
    try:
        if head == ERROR_STRING_SELECTOR:
            return str(decode(["string"], body)[0])
        if head == PANIC_SELECTOR:
            code = int(decode(["uint256"], body)[0])
            return f"panic 0x{code:02x} ({_PANIC_CODES.get(code, 'unknown panic code')})"
        for entry in abi or ():
            if entry.get("type") == "error" and selector(entry) == head:
                args = decode(input_types(entry), body)
                return f"{entry['name']}({', '.join(_show(a) for a in args)})"
    except Exception:  # noqa: S110 - malformed revert data: fall through to the raw reading
        pass
    return f"custom error 0x{head.hex()}" + (f" (data 0x{body.hex()})" if body else "")


def _show(value: Any) -> str:
    if isinstance(value, bytes):
        return "0x" + value.hex()
    return repr(value) if isinstance(value, str) else str(value)
