"""Typed compiler artifacts built from solc's standard-JSON output."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypedDict

from bulwark.errors import CompileError

JsonDict = dict[str, Any]

# Unlinked library placeholders are 40 characters starting and ending with "__" ("__$<34 hex>$__"
# from 0.5, "__<path:Name padded with _>__" before); hex code never contains "_".
_PLACEHOLDER = re.compile(r"__.{36}__")


class SolcError(TypedDict, total=False):
    """One entry of ``errors`` in solc's standard-JSON output (raw shape)."""

    severity: str
    type: str
    component: str
    message: str
    formattedMessage: str
    errorCode: str
    sourceLocation: JsonDict


@dataclass(frozen=True, slots=True)
class StorageVariable:
    """One state variable's place in storage (``storageLayout.storage[]``)."""

    label: str
    slot: int
    offset: int
    type: str  # key into StorageLayout.types, e.g. "t_uint256"
    contract: str  # "path:Name" of the contract that declares it
    ast_id: int


@dataclass(frozen=True, slots=True)
class StorageType:
    """One entry of ``storageLayout.types``."""

    label: str  # e.g. "uint256", "mapping(address => uint256)"
    encoding: str  # inplace, mapping, dynamic_array, bytes
    number_of_bytes: int
    members: tuple[StorageVariable, ...] = ()
    key: str | None = None
    value: str | None = None
    base: str | None = None


@dataclass(frozen=True, slots=True)
class StorageLayout:
    variables: tuple[StorageVariable, ...]
    types: Mapping[str, StorageType]

    def variable(self, label: str) -> StorageVariable:
        for var in self.variables:
            if var.label == label:
                return var
        names = ", ".join(v.label for v in self.variables) or "none"
        raise KeyError(f"no state variable {label!r} in storage layout (variables: {names})")

    def type_of(self, var: StorageVariable) -> StorageType:
        return self.types[var.type]

    @classmethod
    def from_json(cls, raw: JsonDict) -> StorageLayout:
        return cls(
            variables=tuple(_storage_var(v) for v in raw.get("storage") or []),
            types={k: _storage_type(t) for k, t in (raw.get("types") or {}).items()},
        )


def _storage_var(v: JsonDict) -> StorageVariable:
    return StorageVariable(
        label=v["label"],
        slot=int(v["slot"]),
        offset=int(v["offset"]),
        type=v["type"],
        contract=v.get("contract", ""),
        ast_id=int(v.get("astId", -1)),
    )


def _storage_type(t: JsonDict) -> StorageType:
    return StorageType(
        label=t["label"],
        encoding=t["encoding"],
        number_of_bytes=int(t["numberOfBytes"]),
        members=tuple(_storage_var(m) for m in t.get("members") or []),
        key=t.get("key"),
        value=t.get("value"),
        base=t.get("base"),
    )


@dataclass(frozen=True, slots=True)
class ImmutableReference:
    """Where an immutable's value is spliced into the deployed code (byte offsets)."""

    start: int
    length: int


def code_bytes(hex_code: str) -> bytes:
    """Bytecode as bytes; unlinked library placeholders become zero addresses (see link_references)."""
    hex_code = hex_code.removeprefix("0x")
    return bytes.fromhex(_PLACEHOLDER.sub("0" * 40, hex_code))


@dataclass(frozen=True, slots=True)
class ContractArtifact:
    name: str
    source_path: str  # source unit name, e.g. "contracts/Vault.sol"
    abi: list[JsonDict]
    bytecode: bytes  # creation code ("" for interfaces and abstract contracts)
    deployed_bytecode: bytes
    source_map: str
    deployed_source_map: str
    method_identifiers: dict[str, str]  # "transfer(address,uint256)" -> "a9059cbb"
    immutable_references: dict[str, tuple[ImmutableReference, ...]]  # AST id -> places
    link_references: JsonDict
    storage_layout: StorageLayout | None  # None before solc 0.5.13
    metadata: str
    userdoc: JsonDict
    devdoc: JsonDict

    @property
    def qualified_name(self) -> str:
        return f"{self.source_path}:{self.name}"

    @property
    def selectors(self) -> dict[str, bytes]:
        return {sig: bytes.fromhex(sel) for sig, sel in self.method_identifiers.items()}

    @classmethod
    def from_json(cls, source_path: str, name: str, raw: JsonDict) -> ContractArtifact:
        evm = raw.get("evm") or {}
        code = evm.get("bytecode") or {}
        deployed = evm.get("deployedBytecode") or {}
        immutables = {
            ast_id: tuple(ImmutableReference(int(r["start"]), int(r["length"])) for r in refs)
            for ast_id, refs in (deployed.get("immutableReferences") or {}).items()
        }
        layout = raw.get("storageLayout")
        return cls(
            name=name,
            source_path=source_path,
            abi=list(raw.get("abi") or []),
            bytecode=code_bytes(code.get("object", "")),
            deployed_bytecode=code_bytes(deployed.get("object", "")),
            source_map=code.get("sourceMap", ""),
            deployed_source_map=deployed.get("sourceMap", ""),
            method_identifiers=dict(evm.get("methodIdentifiers") or {}),
            immutable_references=immutables,
            link_references={
                "bytecode": code.get("linkReferences") or {},
                "deployedBytecode": deployed.get("linkReferences") or {},
            },
            storage_layout=StorageLayout.from_json(layout) if layout is not None else None,
            metadata=raw.get("metadata", ""),
            userdoc=dict(raw.get("userdoc") or {}),
            devdoc=dict(raw.get("devdoc") or {}),
        )


@dataclass(frozen=True, slots=True)
class SourceUnit:
    path: str  # source unit name as solc saw it
    id: int  # index used in source maps
    ast: JsonDict  # compact AST ("ast" output)
    content: str | None  # text compiled (None only if solc was given urls it resolved itself)
    file: Path | None  # file on disk it was read from, when known


@dataclass(frozen=True, slots=True)
class CompileResult:
    version: str  # "0.8.26"
    long_version: str  # "0.8.26+commit.8a97fa7a.Emscripten.clang"
    contracts: tuple[ContractArtifact, ...]
    sources: dict[str, SourceUnit]
    # Self-contained input: the request sent to solc plus the content of every import it read.
    standard_json_input: JsonDict
    settings: JsonDict  # the exact standard-JSON "settings" used
    output: JsonDict = field(repr=False)  # raw standard-JSON output (for crytic-compile, the shim)
    warnings: tuple[str, ...] = ()
    cached: bool = False

    def contract(self, name: str) -> ContractArtifact:
        """Find by ``Name`` or ``path:Name``; a clear error lists what is available."""
        matches = [c for c in self.contracts if name in (c.name, c.qualified_name)]
        if len(matches) == 1:
            return matches[0]
        available = ", ".join(c.qualified_name for c in self.contracts) or "none"
        if not matches:
            raise CompileError(f"no contract {name!r} in the compiled sources (available: {available})")
        raise CompileError(f"contract name {name!r} is ambiguous; use one of: {available}")

    def contracts_in(self, source_path: str) -> tuple[ContractArtifact, ...]:
        return tuple(c for c in self.contracts if c.source_path == source_path)
