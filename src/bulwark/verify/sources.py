"""Compiling the candidate, and finding the source of the live implementation by its bytecode.

The live implementation's source is needed for the layout diff and the AST checks. When it is not
given, the project's Solidity files that declare a contract of the expected name are compiled and
the one whose runtime code equals the on-chain code (immutables masked, metadata trailer dropped)
is taken.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from bulwark.errors import CompileError
from bulwark.fork.session import VerifyError
from bulwark.toolchain.artifacts import CompileResult, ContractArtifact
from bulwark.toolchain.solc import Compiler

__all__ = ["Compiled", "compile_candidate", "find_live_source", "runtime_matches", "strip_metadata"]

_SKIP_DIRS = frozenset({"node_modules", ".git", ".venv", "out", "cache", "lib", "tests", "fixtures"})


@dataclass(frozen=True, slots=True)
class Compiled:
    result: CompileResult
    contract: str  # name in the result
    path: Path

    @property
    def artifact(self) -> ContractArtifact:
        return self.result.contract(self.contract)


def strip_metadata(code: bytes) -> bytes:
    """Runtime code without solc's CBOR metadata trailer (its length is in the last two bytes)."""
    if len(code) < 2:
        return code
    n = int.from_bytes(code[-2:], "big")
    return code[: -(n + 2)] if 0 < n + 2 <= len(code) else code


def runtime_matches(artifact: ContractArtifact, onchain: bytes) -> bool:
    compiled = bytearray(artifact.deployed_bytecode)
    live = bytearray(onchain)
    if len(compiled) != len(live):
        return False
    for refs in artifact.immutable_references.values():
        for ref in refs:
            live[ref.start : ref.start + ref.length] = b"\0" * ref.length
            compiled[ref.start : ref.start + ref.length] = b"\0" * ref.length
    return strip_metadata(bytes(compiled)) == strip_metadata(bytes(live))


def _pick_contract(result: CompileResult, path: Path, wanted: str | None, unit: str) -> str:
    if wanted:
        return result.contract(wanted).name
    own = [c for c in result.contracts if c.source_path == unit and c.deployed_bytecode]
    uups = [c for c in own if "proxiableUUID()" in c.method_identifiers]
    for group in (uups, own):
        if len(group) == 1:
            return group[0].name
        named = [c for c in group if c.name == path.stem]
        if len(named) == 1:
            return named[0].name
    names = ", ".join(c.name for c in own) or "none"
    raise VerifyError(
        f"cannot tell which contract of {path} is the implementation ({names}); pass --contract"
    )


def compile_candidate(compiler: Compiler, path: Path, contract: str | None = None) -> Compiled:
    try:
        result = compiler.compile_files([path])
    except CompileError:
        raise
    unit = next(
        (u for u, s in result.sources.items() if s.file is not None and s.file.resolve() == path.resolve()),
        "",
    )
    return Compiled(result, _pick_contract(result, path, contract, unit), path)


def _solidity_files(roots: Iterable[Path], name: str) -> list[Path]:
    pattern = re.compile(rf"\bcontract\s+{re.escape(name)}\b")
    out: list[Path] = []
    for root in roots:
        if root.is_file():
            out.append(root)
            continue
        for path in sorted(root.rglob("*.sol")):
            if _SKIP_DIRS & set(path.relative_to(root).parts[:-1]):
                continue
            try:
                if pattern.search(path.read_text(encoding="utf-8", errors="replace")):
                    out.append(path)
            except OSError:
                continue
    return out


def find_live_source(compiler: Compiler, onchain: bytes, name: str, roots: Sequence[Path]) -> Compiled | None:
    """The first project source whose ``name`` compiles to exactly the live runtime code."""
    for path in _solidity_files(roots, name):
        try:
            result = compiler.compile_files([path])
            art = result.contract(name)
        except CompileError:
            continue
        if runtime_matches(art, onchain):
            return Compiled(result, art.name, path)
    return None
