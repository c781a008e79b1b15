"""The one walker over solc's compact AST (JSON as solc gives it): every node in source order,
nodes of a type, source ranges, and every node of a compilation by id.

The stages read ASTs for different ends (upgrade safety, the remedy catalogue, fingerprints,
localisation); how to go through one is the same, so it lives here, below them.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from bulwark.toolchain.artifacts import CompileResult

__all__ = [
    "AstIndex",
    "Node",
    "SrcRange",
    "documentation",
    "find",
    "members",
    "root_identifier",
    "smallest_at",
    "src_range",
    "type_string",
    "walk",
]

Node = Mapping[str, Any]

# Annotations, not code: no statement or expression lives under them.
_NOT_CODE = frozenset({"typeDescriptions", "documentation"})


def walk(node: Any) -> Iterator[Node]:
    """Every AST node (a mapping with a ``nodeType``) under ``node``, itself included, depth
    first in source order; type descriptions and NatSpec are not descended into."""
    stack = [node]
    while stack:
        cur = stack.pop()
        if isinstance(cur, Mapping):
            if "nodeType" in cur:
                yield cur
            stack.extend(
                reversed([v for k, v in cur.items() if k not in _NOT_CODE and isinstance(v, Mapping | list)])
            )
        elif isinstance(cur, list):
            stack.extend(reversed(cur))


def find(node: Any, *node_types: str) -> Iterator[Node]:
    """The nodes under ``node`` whose ``nodeType`` is one of ``node_types``, in source order."""
    wanted = frozenset(node_types)
    return (n for n in walk(node) if n.get("nodeType") in wanted)


def members(contract: Node, node_type: str) -> Iterator[Node]:
    """The direct members of a contract (or any node with ``nodes``) of one ``nodeType``."""
    for node in contract.get("nodes") or []:
        if node.get("nodeType") == node_type:
            yield node


@dataclass(frozen=True, slots=True)
class SrcRange:
    """A node's ``src``: byte offset and length in source unit number ``file``."""

    start: int
    length: int
    file: int

    @property
    def end(self) -> int:
        return self.start + self.length

    def contains(self, offset: int) -> bool:
        return self.start <= offset < self.start + max(self.length, 1)


def src_range(node: Node) -> SrcRange:
    start, length, file = (int(x) for x in str(node.get("src", "0:0:-1")).split(":"))
    return SrcRange(start, length, file)


def smallest_at(node: Any, node_type: str, offset: int) -> Node | None:
    """The innermost node of ``node_type`` under ``node`` whose source range holds ``offset``."""
    best: Node | None = None
    for n in find(node, node_type):
        r = src_range(n)
        if r.contains(offset) and (best is None or r.length < src_range(best).length):
            best = n
    return best


def type_string(node: Node) -> str:
    return str((node.get("typeDescriptions") or {}).get("typeString") or "")


def root_identifier(expr: Mapping[str, Any]) -> Mapping[str, Any] | None:
    """The Identifier at the root of ``a[i].b[j]`` (or ``a`` itself): the variable an access reads
    or writes; None when the root is not a plain name (a call's result, a literal)."""
    node: Mapping[str, Any] | None = expr
    while node is not None:
        kind = node.get("nodeType")
        if kind == "Identifier":
            return node
        if kind == "IndexAccess":
            node = node.get("baseExpression")
        elif kind == "MemberAccess":
            node = node.get("expression")
        elif kind == "TupleExpression" and len(node.get("components") or []) == 1:
            node = (node.get("components") or [None])[0]
        else:
            return None
    return None


def documentation(node: Node) -> str:
    """A node's NatSpec text (a StructuredDocumentation node since 0.6.3, a string before)."""
    doc = node.get("documentation")
    if isinstance(doc, Mapping):
        return str(doc.get("text", ""))
    return str(doc or "")


@dataclass(frozen=True, slots=True)
class AstIndex:
    """Every node of a compilation by id, plus the source unit each contract lives in."""

    nodes: Mapping[int, Node]
    unit_of: Mapping[int, str]  # contract id -> source unit path

    @classmethod
    def of(cls, result: CompileResult) -> AstIndex:
        nodes: dict[int, Node] = {}
        unit_of: dict[int, str] = {}
        for path, unit in result.sources.items():
            for node in walk(unit.ast):
                node_id = node.get("id")
                if isinstance(node_id, int):
                    nodes[node_id] = node
                    if node.get("nodeType") == "ContractDefinition":
                        unit_of[node_id] = path
        return cls(nodes, unit_of)

    def contract(self, name: str, source_path: str | None = None) -> Node:
        """The contract called ``name`` (in ``source_path`` when given); KeyError when none is."""
        for cid, n in self.nodes.items():
            if (
                n.get("nodeType") == "ContractDefinition"
                and n.get("name") == name
                and (source_path is None or self.unit_of.get(cid) == source_path)
            ):
                return n
        raise KeyError(f"no contract {name!r} in the AST")

    def ref(self, node: Node) -> Node | None:
        """The declaration an Identifier (or any referencing node) points at."""
        target = node.get("referencedDeclaration")
        return self.nodes.get(target) if isinstance(target, int) else None

    def linearization(self, contract: Node) -> tuple[Node, ...]:
        """The contract and its bases, most derived first (C3 order, as solc computed it)."""
        return tuple(self.nodes[i] for i in contract.get("linearizedBaseContracts", []) if i in self.nodes)
