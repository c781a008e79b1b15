"""Arbitrary storage writes through a dynamic array's length (solc < 0.6, where ``length`` is
writable): ``arr.length--`` or ``arr.length -= n`` on an array that may be shorter wraps the length
round to 2**256 - 1, after which ``arr[i] = v`` reaches every storage slot (the owner's too)."""

from __future__ import annotations

from collections.abc import Iterator

from bulwark.domain import VulnClass
from bulwark.domain.patch import Localisation
from bulwark.patch.locate.finding import localisation
from bulwark.patch.solast import Contract, Function, Node, Program, callee_name, src, type_string, walk


def length_shrinks(program: Program, fn: Function) -> list[tuple[Node, Node, Node | None]]:
    """(statement, array expression, amount or None for 1) for each ``length`` decrement in ``fn``
    that no earlier check of that array's length guards."""
    out: list[tuple[Node, Node, Node | None]] = []
    if fn.body is None or program.at_least(0, 6):
        return out
    st = program.text_of(fn.body)
    if st is None:
        return out
    for stmt in program.nodes(fn.body, "ExpressionStatement"):
        expr = stmt.get("expression") or {}
        if expr.get("nodeType") == "UnaryOperation" and expr.get("operator") == "--":
            target, amount = expr.get("subExpression") or {}, None
        elif expr.get("nodeType") == "Assignment" and expr.get("operator") == "-=":
            target, amount = expr.get("leftHandSide") or {}, expr.get("rightHandSide")
        else:
            continue
        if target.get("nodeType") != "MemberAccess" or target.get("memberName") != "length":
            continue
        array = target.get("expression") or {}
        if not type_string(array).endswith("[] storage ref"):
            continue
        if not _guarded(program, fn, st.of(array), src(stmt).start):
            out.append((stmt, array, amount))
    return out


def _guarded(program: Program, fn: Function, array: str, before: int) -> bool:
    """Is ``array.length`` compared in a require/assert/if condition before offset ``before``?"""
    st = program.text_of(fn.body or {})
    assert st is not None
    for n in program.nodes(fn.body):
        cond: Node | None = None
        kind = n.get("nodeType")
        if kind == "FunctionCall" and callee_name(n) in ("require", "assert") and n.get("arguments"):
            cond = n["arguments"][0]
        elif kind in ("IfStatement", "WhileStatement", "ForStatement"):
            cond = n.get("condition")
        if not cond or src(cond).start >= before:
            continue
        for x in walk(cond):
            if (
                x.get("nodeType") == "MemberAccess"
                and x.get("memberName") == "length"
                and st.of(x.get("expression") or {}) == array
            ):
                return True
    return False


def check_array_length(program: Program, contract: Contract) -> Iterator[Localisation]:
    if program.at_least(0, 6):
        return
    for fn in contract.functions:
        if program.text_of(fn.node) is None:
            continue
        st = program.text_of(fn.node)
        for stmt, array, _ in length_shrinks(program, fn):
            privileged = program.checks_sender(fn)
            name = st.of(array) if st is not None else "an array"
            yield localisation(
                program,
                "array-length-underflow",
                VulnClass.INTEGER_OVERFLOW,
                contract,
                fn,
                stmt,
                0.6 if privileged else 0.85,
                f"{fn.name} shortens {name} without checking it is long enough: on an empty array the "
                "length wraps to 2**256-1 and an index write then reaches any storage slot",
            )
