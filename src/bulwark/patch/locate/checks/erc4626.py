"""ERC-4626 share inflation: shares priced 1:1 on an empty vault with no virtual shares or offset."""

from __future__ import annotations

from collections.abc import Iterator

from bulwark.domain import VulnClass
from bulwark.domain.patch import Localisation
from bulwark.patch.locate.finding import localisation
from bulwark.patch.solast import Contract, Node, Program, base_variable, callee_name


def check_erc4626(program: Program, contract: Contract) -> Iterator[Localisation]:
    for fn in contract.functions:
        if program.text_of(fn.node) is None or fn.body is None:
            continue
        nodes = program.nodes(fn.body)
        for cond in (n for n in nodes if n.get("nodeType") in ("Conditional", "IfStatement")):
            if supply_is_zero(program, cond.get("condition") or {}):
                yield localisation(
                    program,
                    "erc4626-no-offset",
                    VulnClass.ERC4626_INFLATION,
                    contract,
                    fn,
                    cond,
                    0.7,
                    f"{fn.name} prices shares 1:1 on an empty vault and pro rata after, with no virtual "
                    "shares: a donation before the first deposit inflates the share price",
                )


def supply_is_zero(program: Program, cond: Node) -> Node | None:
    """For ``supply == 0`` where supply is the share supply, the supply expression node."""
    if cond.get("nodeType") != "BinaryOperation" or cond.get("operator") != "==":
        return None
    left, right = cond.get("leftExpression") or {}, cond.get("rightExpression") or {}
    if right.get("nodeType") != "Literal" or str(right.get("value")) != "0":
        return None
    if _is_supply(program, left):
        return left
    return None


def _is_supply(program: Program, expr: Node) -> bool:
    if expr.get("nodeType") == "FunctionCall":
        return (callee_name(expr) or "").lower() == "totalsupply"
    if expr.get("nodeType") == "Identifier":
        name = str(expr.get("name") or "").lower()
        return "supply" in name or "totalshares" in name
    if expr.get("nodeType") == "IndexAccess":
        base = base_variable(expr)
        return (base is not None and "supply" in str(base.get("name") or "").lower()) or (
            base is not None and "shares" in str(base.get("name") or "").lower()
        )
    return False
