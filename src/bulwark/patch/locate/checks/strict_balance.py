"""A strict equality on the contract's own ether balance (``address(this).balance == total``).
Anyone can add ether no function can refuse (``selfdestruct``, a coinbase payment), after which
the equality never holds again and every function that requires it is blocked."""

from __future__ import annotations

from collections.abc import Iterator

from bulwark.domain import VulnClass
from bulwark.domain.patch import Localisation
from bulwark.patch.locate.finding import localisation
from bulwark.patch.solast import Contract, Function, Modifier, Node, Program, callee_name, walk


def is_own_balance(node: Node) -> bool:
    """``address(this).balance`` or ``this.balance``."""
    if node.get("nodeType") != "MemberAccess" or node.get("memberName") != "balance":
        return False
    base = node.get("expression") or {}
    if base.get("nodeType") == "FunctionCall" and base.get("kind") == "typeConversion":
        args = base.get("arguments") or []
        base = args[0] if len(args) == 1 else {}
    return base.get("nodeType") == "Identifier" and base.get("name") == "this"


def strict_balance_checks(program: Program, part: Function | Modifier) -> list[Node]:
    """``==``/``!=`` comparisons of the own balance in require/assert/if conditions of ``part``."""
    out: list[Node] = []
    conds: list[Node] = []
    for n in program.nodes(part.body):
        kind = n.get("nodeType")
        if kind == "FunctionCall" and callee_name(n) in ("require", "assert") and n.get("arguments"):
            conds.append(n["arguments"][0])
        elif kind == "IfStatement":
            conds.append(n.get("condition") or {})
    for cond in conds:
        for n in walk(cond):
            strict = n.get("nodeType") == "BinaryOperation" and n.get("operator") in ("==", "!=")
            if strict and any(is_own_balance(x) for x in walk(n)):
                out.append(n)
    return out


def check_strict_balance(program: Program, contract: Contract) -> Iterator[Localisation]:
    parts: list[Function | Modifier] = [*contract.functions, *contract.modifiers]
    for part in parts:
        if part.body is None or program.text_of(part.node) is None:
            continue
        found = strict_balance_checks(program, part)
        if not found:
            continue
        fn = part if isinstance(part, Function) else None
        if fn is None:  # a modifier: name the first function that applies it
            fn = next((f for f in contract.functions if part.name in f.modifier_names), None)
        yield localisation(
            program,
            "strict-balance-equality",
            VulnClass.DOS,
            contract,
            fn,
            found[0],
            0.6,
            f"{part.name} requires the contract's ether balance to equal a stored total exactly: ether "
            "forced in by selfdestruct breaks the equality for good and blocks it",
        )
