"""Reading a transaction's storage diff: which written slot is which mapping entry, found by
hashing the transaction's own addresses and words into the bases the layout (or a small probe) gives.

Solidity places ``m[k]`` of a mapping at base slot ``b`` in ``keccak(pad32(k) . pad32(b))``; a
nested ``m[k1][k2]`` in ``keccak(pad32(k2) . keccak(pad32(k1) . pad32(b)))``. Whoever's entry was
written was named somewhere in the transaction (sender, a frame's address, a calldata or log word),
so the candidate keys are those, and nothing needs to be known about the contract's names.
"""

from __future__ import annotations

from collections.abc import Iterable

from eth_utils.crypto import keccak

from bulwark.chain.eip1967 import SLOTS
from bulwark.detect.evm import checksum
from bulwark.detect.model import TxEvent
from bulwark.domain import Address

# Slot number -> label, as a storage diff keys them.
EIP1967_SLOTS: dict[int, str] = {int(slot, 16): f"EIP-1967 {name} slot" for name, slot in SLOTS.items()}
# Plain state variables sit in low slots; hashed (mapping, dynamic, namespaced) ones do not.
PLAIN_SLOTS = 1 << 16
SMALL_BASES = range(16)  # the general probe when no layout is configured


def pad(value: int | bytes | str) -> bytes:
    if isinstance(value, str):
        return bytes.fromhex(value[2:]).rjust(32, b"\0")
    if isinstance(value, bytes):
        return value.rjust(32, b"\0")
    return value.to_bytes(32, "big")


def mapping_slot(key: int | bytes | str, base: int | bytes) -> int:
    return int.from_bytes(keccak(pad(key) + pad(base)), "big")


def _as_address(w: bytes) -> Address | None:
    if len(w) == 32 and w[:12] == b"\0" * 12 and w[12:] != b"\0" * 20 and w[12:16] != b"\0\0\0\0":
        return checksum("0x" + w[12:].hex())
    return None


def touched(event: TxEvent) -> tuple[frozenset[Address], frozenset[bytes]]:
    """Addresses the transaction names (sender, frames, address-like words in calldata and logs)
    and the 32-byte words of its calldata (role ids and the like)."""
    addrs: set[Address] = {event.tx.sender}
    words: set[bytes] = {b"\0" * 32}
    if event.tx.to is not None:
        addrs.add(event.tx.to)

    def scan(data: bytes) -> None:
        for i in range(0, len(data) - 31, 32):
            w = data[i : i + 32]
            words.add(w)
            a = _as_address(w)
            if a is not None:
                addrs.add(a)

    scan(event.tx.data[4:])
    for step in event.steps:
        if step.kind == "call" and step.frame is not None:
            f = step.frame
            addrs.add(f.sender)
            if f.to is not None:
                addrs.add(f.to)
            scan(f.input[4:])
        elif step.kind == "log" and step.log is not None:
            for t in step.log.topics[1:]:
                a = _as_address(bytes.fromhex(t[2:]))
                if a is not None:
                    addrs.add(a)
            scan(step.log.data)
    return frozenset(addrs), frozenset(words)


def entries(addrs: Iterable[Address], bases: Iterable[int]) -> dict[int, tuple[Address, int]]:
    """slot -> (key address, base) for ``m[a]`` of every base and address."""
    return {mapping_slot(a, b): (a, b) for b in bases for a in addrs}


def nested_entries(
    outer: Iterable[Address | bytes], inner: Iterable[Address], bases: Iterable[int]
) -> dict[int, tuple[Address | bytes, Address, int]]:
    """slot -> (outer key, inner key, base) for ``m[k1][k2]`` (and a struct's first member)."""
    out: dict[int, tuple[Address | bytes, Address, int]] = {}
    inner = tuple(inner)
    for b in bases:
        for k1 in outer:
            mid = keccak(pad(k1) + pad(b))
            for k2 in inner:
                out[int.from_bytes(keccak(pad(k2) + mid), "big")] = (k1, k2, b)
    return out


def word_int(value: str | None) -> int:
    return int(value, 16) if value else 0
