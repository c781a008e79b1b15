"""Calls whose failure goes unnoticed: low-level calls and boolean token transfers used as a
statement, their result dropped."""

from __future__ import annotations

from collections.abc import Iterator

from bulwark.domain import VulnClass
from bulwark.domain.patch import Localisation
from bulwark.patch.locate.finding import localisation
from bulwark.patch.solast import (
    Contract,
    Function,
    Node,
    Program,
    call_target,
    callee_name,
    is_external_call,
    type_string,
)


def _ignored_calls(fn: Function) -> Iterator[Node]:
    """Calls used as a statement on their own: their result is dropped."""
    for n in fn.program.nodes(fn.body):
        if n.get("nodeType") == "ExpressionStatement":
            expr = n.get("expression") or {}
            if expr.get("nodeType") == "FunctionCall":
                yield n


def check_unchecked_calls(program: Program, contract: Contract) -> Iterator[Localisation]:
    for fn in contract.functions:
        if program.text_of(fn.node) is None or fn.body is None:
            continue
        for stmt in _ignored_calls(fn):
            call = stmt["expression"]
            target = call_target(call)
            name = callee_name(call)
            if target is None:
                continue
            base_type = type_string(target.get("expression") or {})
            if name in ("call", "send", "delegatecall", "callcode") and base_type.startswith("address"):
                yield localisation(
                    program,
                    "unchecked-lowlevel",
                    VulnClass.UNCHECKED_RETURN,
                    contract,
                    fn,
                    stmt,
                    0.75,
                    f"the result of .{name} is ignored: a failed call goes unnoticed",
                )
            elif (
                name in ("transfer", "transferFrom", "approve")
                and is_external_call(call)
                and type_string(call) == "bool"
            ):
                yield localisation(
                    program,
                    "unchecked-transfer",
                    VulnClass.UNCHECKED_RETURN,
                    contract,
                    fn,
                    stmt,
                    0.8,
                    f"the boolean result of token.{name} is ignored: tokens that return false "
                    "instead of reverting let the call 'succeed' without moving funds",
                )
