"""Pure functions over EVM runtime code: its hash, and a fingerprint that survives redeployment.

:func:`bytecode_fingerprint`: runtime code with the solc metadata trailer cut off and the operands
of every PUSH20 (addresses) and PUSH32 (immutables are PUSH32 placeholders filled at deployment)
zeroed, then keccak. The same contract deployed by another account, or aimed at another protocol
through an immutable, has the same fingerprint; a different program does not.

It lives here, below the stages, because detection matches created contracts against it and threat
intelligence publishes it (:mod:`bulwark.intel.fingerprint` re-exports it).

:func:`compare_runtime`: does a compiled contract's runtime code match what is deployed? Both sides
lose the metadata trailer (it hashes file names and comments, not the program) and have the bytes
solc reports as immutables and library links zeroed (filled in at deployment); then they must be
equal byte for byte. Unlike the fingerprint, nothing else is masked: a changed constant address is a
different program.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass

import rlp  # type: ignore[import-untyped]
from eth_utils.address import to_checksum_address
from eth_utils.crypto import keccak

from bulwark.domain.evidence import RecordedVerdict
from bulwark.toolchain.artifacts import ContractArtifact

__all__ = [
    "CodeMatch",
    "artifact_ranges",
    "bytecode_fingerprint",
    "code_hash",
    "compare_artifact",
    "compare_runtime",
    "create_address",
    "mask_ranges",
    "metadata_solc_version",
    "strip_metadata",
]

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


# In the CBOR map solc appends: the text key "solc" then a 3-byte string (major, minor, patch) for a
# release build (a pre-release carries a text string instead, which we do not read).
_SOLC_KEY = b"\x64solc\x43"


def metadata_solc_version(runtime: bytes) -> str | None:
    """The solc release recorded in the metadata trailer (``"0.8.26"``), or None when absent."""
    stripped = strip_metadata(runtime)
    trailer = runtime[len(stripped) :]
    at = trailer.find(_SOLC_KEY)
    if not trailer or at < 0 or at + len(_SOLC_KEY) + 3 > len(trailer):
        return None
    major, minor, patch = trailer[at + len(_SOLC_KEY) : at + len(_SOLC_KEY) + 3]
    return f"{major}.{minor}.{patch}"


def mask_ranges(code: bytes, ranges: Iterable[tuple[int, int]]) -> bytes:
    """``code`` with every ``(start, length)`` range zeroed (ranges past the end are clipped)."""
    out = bytearray(code)
    for start, length in ranges:
        end = min(start + length, len(out))
        if 0 <= start < end:
            out[start:end] = bytes(end - start)
    return bytes(out)


@dataclass(frozen=True, slots=True)
class CodeMatch:
    """The outcome of :func:`compare_runtime`; ``reason`` says what differs when it does not match."""

    matches: bool
    reason: str = ""
    first_difference: int | None = None  # byte offset into the stripped code
    deployed_solc: str | None = None
    compiled_solc: str | None = None


def compare_runtime(deployed: bytes, compiled: bytes, masked: Iterable[tuple[int, int]] = ()) -> CodeMatch:
    """Whether ``compiled`` (solc's deployedBytecode) is the program running as ``deployed``.

    ``masked`` are the compiler's ``immutableReferences`` (and deployed link references) as
    ``(start, length)`` offsets into the runtime code.
    """
    dv, cv = metadata_solc_version(deployed), metadata_solc_version(compiled)
    if not deployed:
        return CodeMatch(False, "no code at the implementation", deployed_solc=dv, compiled_solc=cv)
    if not compiled:
        return CodeMatch(
            False,
            "the contract compiles to no runtime code (abstract or an interface?)",
            deployed_solc=dv,
            compiled_solc=cv,
        )
    ranges = tuple(masked)
    ours = strip_metadata(mask_ranges(compiled, ranges))
    theirs = strip_metadata(mask_ranges(deployed, ranges))
    if ours == theirs:
        return CodeMatch(True, deployed_solc=dv, compiled_solc=cv)
    first = next(
        (i for i, (a, b) in enumerate(zip(ours, theirs, strict=False)) if a != b), min(len(ours), len(theirs))
    )
    sizes = f"{len(theirs)} bytes deployed, {len(ours)} compiled"
    if dv and cv and dv != cv:
        reason = f"compiler settings differ: deployed with solc {dv}, compiled with {cv} ({sizes})"
    else:
        reason = (
            f"code differs from byte {first} ({sizes}): the source differs, or the compiler settings "
            "(optimizer, runs, EVM version, via-IR) do"
        )
    return CodeMatch(False, reason, first, deployed_solc=dv, compiled_solc=cv)


def runtime_is_verified(code: bytes, verdict: RecordedVerdict) -> bool:
    """Is ``code`` (read from the chain) the runtime code ``verdict`` verified? Its immutables
    (UUPS's ``__self``...) are zeroed first, as solc emits them before deployment fills them in."""
    if verdict.runtime_code_sha256 is None or not code:
        return False
    masked = mask_ranges(code, verdict.immutable_ranges)
    return "0x" + hashlib.sha256(masked).hexdigest() == verdict.runtime_code_sha256


def artifact_ranges(artifact: ContractArtifact) -> list[tuple[int, int]]:
    """The runtime-code bytes filled in at deployment: immutables and linked library addresses."""
    ranges = [(r.start, r.length) for refs in artifact.immutable_references.values() for r in refs]
    links = artifact.link_references.get("deployedBytecode") or {}
    for by_lib in links.values():
        for places in by_lib.values():
            ranges += [(int(p["start"]), int(p["length"])) for p in places]
    return ranges


def compare_artifact(deployed: bytes, artifact: ContractArtifact) -> CodeMatch:
    return compare_runtime(deployed, artifact.deployed_bytecode, artifact_ranges(artifact))
