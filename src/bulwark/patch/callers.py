"""What a caller following a patch's :class:`~bulwark.domain.patch.CallerChange` computes.

A commit-reveal patch asks callers of the rewarded function to commit first: the commitment is
``keccak256(abi.encodePacked(<preimage>))`` where the preimage names the caller and some of the
function's own arguments. These helpers compute it (and the commit call's calldata) the way Solidity
does, so a front end, a script or the benchmark's honest users can follow the patch report.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from eth_abi.abi import encode
from eth_abi.packed import encode_packed
from eth_utils.address import to_canonical_address
from eth_utils.crypto import keccak

from bulwark.domain.patch import CallerChange

_ARRAY = re.compile(r"^(?P<base>[a-z0-9]+)\[(?P<size>\d*)\]$")
_SIGNATURE = re.compile(r"^(?P<name>[A-Za-z_$][A-Za-z0-9_$]*)\((?P<args>[^()]*)\)$")


def packed(typ: str, value: Any) -> bytes:
    """``abi.encodePacked`` of one value: elementary types in their own width (strings and bytes
    as is); the elements of a one-dimensional array padded to 32 bytes each, as Solidity does."""
    if typ == "address":
        return to_canonical_address(value)
    array = _ARRAY.match(typ)
    if array is None:
        return bytes(encode_packed([typ], [value]))
    base, size = array["base"], array["size"]
    if base in ("string", "bytes"):
        raise ValueError(f"abi.encodePacked cannot pack an array of {base}")
    items = list(value)
    if size and len(items) != int(size):
        raise ValueError(f"{typ} takes {size} elements, {len(items)} given")
    return b"".join(encode([base], [x]) for x in items)


def commitment(change: CallerChange, caller: str, args: Sequence[Any]) -> bytes:
    """keccak256 of the packed preimage for a call of ``change.function`` with ``args`` by ``caller``."""
    out = b""
    for part in change.preimage:
        if part.arg is None:
            out += packed("address", caller)
        elif part.arg >= len(args):
            raise ValueError(f"{change.function} has no argument {part.arg} ({part.name})")
        else:
            out += packed(part.type, args[part.arg])
    return keccak(out)


def first_call(change: CallerChange, caller: str, args: Sequence[Any]) -> bytes:
    """Calldata of the call to make first (``change.first``, taking the commitment as its one argument)."""
    sig = _SIGNATURE.match(change.first.replace(" ", ""))
    if sig is None or sig["args"] != "bytes32":
        raise ValueError(f"{change.first!r} is not a call taking one bytes32 commitment")
    return keccak(text=f"{sig['name']}({sig['args']})")[:4] + encode(
        ["bytes32"], [commitment(change, caller, args)]
    )
