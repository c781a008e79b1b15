"""Small helpers over solc's compact AST: index by id, find a contract, walk its linearization."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from bulwark.toolchain.artifacts import CompileResult

Node = Mapping[str, Any]


def walk(node: Any) -> Iterator[Node]:
    """Every AST node (dicts with a ``nodeType``) under ``node``, depth first, in source order."""
    stack = [node]
    while stack:
        cur = stack.pop()
        if isinstance(cur, Mapping):
            if "nodeType" in cur:
                yield cur
            stack.extend(reversed(list(cur.values())))
        elif isinstance(cur, list):
            stack.extend(reversed(cur))


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
        found = [
            n
            for cid, n in self.nodes.items()
            if n.get("nodeType") == "ContractDefinition"
            and n.get("name") == name
            and (source_path is None or self.unit_of.get(cid) == source_path)
        ]
        if not found:
            raise KeyError(f"no contract {name!r} in the AST")
        return found[0]

    def linearization(self, contract: Node) -> tuple[Node, ...]:
        """The contract and its bases, most derived first (C3 order, as solc computed it)."""
        return tuple(self.nodes[i] for i in contract.get("linearizedBaseContracts", []) if i in self.nodes)

    def is_library_code(self, contract: Node) -> bool:
        """Code we trust as audited dependencies (OpenZeppelin under node_modules)."""
        path = self.unit_of.get(int(contract["id"]), "")
        return path.startswith(("@openzeppelin/", "node_modules/"))


def documentation(node: Node) -> str:
    doc = node.get("documentation")
    if isinstance(doc, Mapping):
        return str(doc.get("text", ""))
    return str(doc or "")


def unsafe_allows(node: Node) -> frozenset[str]:
    """The kinds listed by ``@custom:oz-upgrades-unsafe-allow`` on a node's NatSpec."""
    allowed: set[str] = set()
    for raw in documentation(node).splitlines():
        line = raw.strip()
        for tag in ("@custom:oz-upgrades-unsafe-allow ", "@custom:oz-upgrades-unsafe-allow-reachable "):
            if tag in line:
                allowed.update(line.split(tag, 1)[1].split())
    return frozenset(allowed)


def members(contract: Node, node_type: str) -> Iterator[Node]:
    for node in contract.get("nodes", []):
        if node.get("nodeType") == node_type:
            yield node


def type_string(node: Node) -> str:
    desc = node.get("typeDescriptions") or {}
    return str(desc.get("typeString", ""))
