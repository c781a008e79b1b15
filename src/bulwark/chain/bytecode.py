"""Pure functions over EVM runtime code: its hash, and a fingerprint that survives redeployment.

:func:`bytecode_fingerprint`: runtime code with the solc metadata trailer cut off and the operands
of every PUSH20 (addresses) and PUSH32 (immutables are PUSH32 placeholders filled at deployment)
zeroed, then keccak. The same contract deployed by another account, or aimed at another protocol
through an immutable, has the same fingerprint; a different program does not.

It lives here, below the stages, because detection matches created contracts against it and threat
intelligence publishes it (:mod:`bulwark.intel.fingerprint` re-exports it).
"""

from __future__ import annotations

import rlp  # type: ignore[import-untyped]
from eth_utils.address import to_checksum_address
from eth_utils.crypto import keccak

__all__ = ["bytecode_fingerprint", "code_hash", "create_address", "strip_metadata"]

_PUSH1, _PUSH20, _PUSH32 = 0x60, 0x73, 0x7F


def code_hash(runtime: bytes) -> str:
    return "0x" + keccak(runtime).hex()


def strip_metadata(runtime: bytes) -> bytes:
    """Runtime code without the CBOR metadata trailer solc appends (length in the last 2 bytes)."""
    if len(runtime) < 2:
        return runtime
    n = int.from_bytes(runtime[-2:], "big")
    if 0 < n <= len(runtime) - 2 and runtime[-2 - n] in (0xA1, 0xA2, 0xA3):
        return runtime[: -2 - n]
    return runtime


def bytecode_fingerprint(runtime: bytes) -> str:
    code = bytearray(strip_metadata(runtime))
    i = 0
    while i < len(code):
        op = code[i]
        if _PUSH1 <= op <= _PUSH32:
            width = op - _PUSH1 + 1
            if op in (_PUSH20, _PUSH32):
                end = min(i + 1 + width, len(code))
                code[i + 1 : end] = bytes(end - i - 1)
            i += 1 + width
        else:
            i += 1
    return "0x" + keccak(bytes(code)).hex()


def create_address(sender: str, nonce: int) -> str:
    """The address a CREATE from ``sender`` at ``nonce`` deploys to."""
    return to_checksum_address(keccak(rlp.encode([bytes.fromhex(sender[2:]), nonce]))[12:])
