"""Fingerprints that survive redeployment and renaming.

* :func:`bytecode_fingerprint` (in :mod:`bulwark.chain.bytecode`, where detection reaches it;
  re-exported here): runtime code with the solc metadata trailer cut off and the operands of
  every PUSH20 (addresses) and PUSH32 (immutables are PUSH32 placeholders filled at deployment)
  zeroed, then keccak. The same attacker contract deployed by another account, or
  aimed at another protocol through an immutable, has the same fingerprint; a different program
  does not.
* :func:`ast_fingerprint`: the shape of a solc compact-AST node: node types, operators,
  elementary types, literal kinds, visibility and mutability, the number of modifiers, and the
  names of built-ins (``msg.sender``, ``.call``); never the names a developer chose. A copy of a
  vulnerable function with renamed identifiers matches; a fixed one (an added check or modifier)
  does not.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from eth_utils.crypto import keccak

from bulwark.chain.bytecode import bytecode_fingerprint, code_hash, strip_metadata
from bulwark.domain.canonical import canonical_ascii
from bulwark.toolchain.solast import find, members, smallest_at, src_range

__all__ = [
    "FunctionShape",
    "ast_fingerprint",
    "ast_shape",
    "bytecode_fingerprint",
    "code_hash",
    "function_shapes",
    "strip_metadata",
]

_GLOBALS = {"msg", "block", "tx", "this", "super", "abi", "type", "now", "gasleft", "keccak256", "require",
            "revert", "assert", "ecrecover", "address", "selfdestruct", "blockhash", "sha256"}  # fmt: skip
_SKIP = frozenset({"src", "id", "nodeType", "typeDescriptions", "documentation", "nameLocation", "name",
                   "memberName", "referencedDeclaration", "overloadedDeclarations", "scope", "value",
                   "hexValue", "absolutePath"})  # fmt: skip
_KEEP_FLAGS = ("operator", "visibility", "stateMutability", "kind", "isConstant", "constant", "mutability")


def ast_shape(node: Any) -> Any:
    """A name-free, JSON-able shape of a compact-AST node."""
    if isinstance(node, list):
        return [ast_shape(n) for n in node]
    if not isinstance(node, Mapping):
        return None
    kind = node.get("nodeType")
    out: dict[str, Any] = {"t": kind}
    for flag in _KEEP_FLAGS:
        if flag in node and isinstance(node[flag], str | bool):
            out[flag] = node[flag]
    if kind == "ElementaryTypeName":
        out["name"] = node.get("name")
    elif kind == "Identifier":
        ref = node.get("referencedDeclaration")
        if (isinstance(ref, int) and ref < 0) or node.get("name") in _GLOBALS:
            out["name"] = node.get("name")
    elif kind == "MemberAccess":
        ref = node.get("referencedDeclaration")
        if ref is None:  # a built-in member (.call, .sender, .length), not a user declaration
            out["member"] = node.get("memberName")
    elif kind == "Literal":
        out["lit"] = node.get("kind")
    elif kind == "FunctionDefinition":
        out["modifiers"] = len(node.get("modifiers") or [])
        out["params"] = ast_shape(node.get("parameters"))
        out["returns"] = ast_shape(node.get("returnParameters"))
        out["body"] = ast_shape(node.get("body"))
        return out
    children = []
    for key in sorted(node):
        if key in _SKIP:
            continue
        value = node[key]
        if isinstance(value, Mapping | list):
            shaped = ast_shape(value)
            if shaped not in (None, []):
                children.append([key, shaped])
    if children:
        out["c"] = children
    return out


def ast_fingerprint(node: Mapping[str, Any]) -> str:
    return "0x" + keccak(canonical_ascii(ast_shape(node))).hex()


@dataclass(frozen=True, slots=True)
class FunctionShape:
    """One function of one contract, located in its source unit, with its fingerprint."""

    path: str
    contract: str
    function: str
    start: int
    length: int
    fingerprint: str


def function_shapes(path: str, source_ast: Mapping[str, Any]) -> list[FunctionShape]:
    """Every implemented function of every contract in one source unit's compact AST."""
    out = []
    for contract in find(source_ast, "ContractDefinition"):
        for fn in members(contract, "FunctionDefinition"):
            if not fn.get("implemented", True):
                continue
            where = src_range(fn)
            name = fn.get("name") or fn.get("kind") or ""
            out.append(FunctionShape(path, str(contract.get("name")), str(name), where.start, where.length,
                                     ast_fingerprint(fn)))  # fmt: skip
    return out


def function_at(
    source_ast: Mapping[str, Any], start: int, length: int | None = None
) -> Mapping[str, Any] | None:
    """The FunctionDefinition whose source range contains byte ``start`` (a localisation's offset)."""
    return smallest_at(source_ast, "FunctionDefinition", start)
