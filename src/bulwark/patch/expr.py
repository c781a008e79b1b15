"""Facts about single expressions of solc's compact AST: who the caller is, what a call calls,
which variable an access is rooted in, what an assignment writes."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from bulwark.toolchain.solast import type_string

Node = dict[str, Any]

# Calls on an address that transfer control to another contract.
ADDRESS_CALLS = frozenset({"call", "send", "transfer", "delegatecall", "callcode", "staticcall"})
_SENDER_FUNCS = frozenset({"_msgSender", "msgSender", "_msgsender"})


def is_msg_sender(node: Mapping[str, Any]) -> bool:
    if node.get("nodeType") == "MemberAccess" and node.get("memberName") == "sender":
        base = node.get("expression") or {}
        return base.get("nodeType") == "Identifier" and base.get("name") == "msg"
    if node.get("nodeType") == "FunctionCall":
        callee = node.get("expression") or {}
        return callee.get("nodeType") == "Identifier" and callee.get("name") in _SENDER_FUNCS
    return False


def is_tx_origin(node: Mapping[str, Any]) -> bool:
    base = node.get("expression") or {}
    return (
        node.get("nodeType") == "MemberAccess"
        and node.get("memberName") == "origin"
        and base.get("nodeType") == "Identifier"
        and base.get("name") == "tx"
    )


def callee_name(call: Mapping[str, Any]) -> str | None:
    """``f`` for ``f(..)``, ``x.f(..)``, ``x.f{value: v}(..)`` and ``x.f.value(v)(..)``."""
    expr = call.get("expression") or {}
    while expr.get("nodeType") == "FunctionCallOptions" or (
        expr.get("nodeType") == "FunctionCall"
        and (expr.get("expression") or {}).get("memberName") in ("value", "gas")
    ):
        expr = expr.get("expression") or {}
        if expr.get("nodeType") == "MemberAccess" and expr.get("memberName") in ("value", "gas"):
            expr = expr.get("expression") or {}
    if expr.get("nodeType") == "Identifier":
        return str(expr.get("name"))
    if expr.get("nodeType") == "MemberAccess":
        return str(expr.get("memberName"))
    return None


def call_target(call: Mapping[str, Any]) -> Node | None:
    """The MemberAccess node naming the called member, through call options."""
    expr = call.get("expression") or {}
    while expr.get("nodeType") in ("FunctionCallOptions", "FunctionCall"):
        inner = expr.get("expression") or {}
        if expr.get("nodeType") == "FunctionCall" and inner.get("memberName") not in ("value", "gas"):
            return None
        expr = inner.get("expression") if inner.get("memberName") in ("value", "gas") else inner
        expr = expr or {}
    return expr if expr.get("nodeType") == "MemberAccess" else None


def is_external_call(call: Mapping[str, Any]) -> bool:
    """A call that can hand control to another contract (low-level or through an interface)."""
    if call.get("nodeType") != "FunctionCall" or call.get("kind") not in (None, "functionCall"):
        return False
    target = call_target(call)
    if target is None:
        return False
    base_type = type_string(target.get("expression") or {})
    if target.get("memberName") in ADDRESS_CALLS and base_type.startswith("address"):
        return True
    fn_type = type_string(target)
    if " external" not in fn_type:
        return False
    base = target.get("expression") or {}
    # this.f() is a call of the contract to itself
    return not (base.get("nodeType") == "Identifier" and base.get("name") == "this")


def assigned_targets(node: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    """Expressions written by an Assignment / ++ / -- / delete node."""
    kind = node.get("nodeType")
    if kind == "Assignment":
        lhs = node.get("leftHandSide") or {}
        if lhs.get("nodeType") == "TupleExpression":
            return [c for c in lhs.get("components") or [] if c]
        return [lhs]
    if kind == "UnaryOperation" and node.get("operator") in ("++", "--", "delete"):
        return [node.get("subExpression") or {}]
    return []
