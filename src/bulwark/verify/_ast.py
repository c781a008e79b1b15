"""What upgrade safety reads in an AST beyond walking it (the walker is toolchain.solast):
OpenZeppelin's NatSpec escape hatches, and which contracts are audited dependencies."""

from __future__ import annotations

from bulwark.toolchain.solast import AstIndex, Node, documentation


def unsafe_allows(node: Node) -> frozenset[str]:
    """The kinds listed by ``@custom:oz-upgrades-unsafe-allow`` on a node's NatSpec."""
    allowed: set[str] = set()
    for raw in documentation(node).splitlines():
        line = raw.strip()
        for tag in ("@custom:oz-upgrades-unsafe-allow ", "@custom:oz-upgrades-unsafe-allow-reachable "):
            if tag in line:
                allowed.update(line.split(tag, 1)[1].split())
    return frozenset(allowed)


def is_library_code(index: AstIndex, contract: Node) -> bool:
    """Code we trust as audited dependencies (OpenZeppelin under node_modules)."""
    path = index.unit_of.get(int(contract["id"]), "")
    return path.startswith(("@openzeppelin/", "node_modules/"))
