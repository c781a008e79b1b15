"""Calls whose failure goes unnoticed: low-level calls and boolean token transfers used as a
statement, their result dropped, and low-level results kept in a local that nothing ever tests
(``bool sent = winner.send(prize); emit Paid(winner, sent);``): logged, but the books go on as if
the payment went through."""

from __future__ import annotations

from collections.abc import Iterator

from bulwark.domain import VulnClass
from bulwark.domain.patch import Localisation
from bulwark.patch.locate.finding import localisation
from bulwark.patch.solast import (
    Contract,
    Function,
    Modifier,
    Node,
    Program,
    call_target,
    callee_name,
    is_external_call,
    src,
    type_string,
    walk,
)


def _ignored_calls(fn: Function | Modifier) -> Iterator[Node]:
    """Calls used as a statement on their own: their result is dropped."""
    for n in fn.program.nodes(fn.body):
        if n.get("nodeType") == "ExpressionStatement":
            expr = n.get("expression") or {}
            if expr.get("nodeType") == "FunctionCall":
                yield n


LOW_LEVEL = ("call", "send", "delegatecall", "callcode")


def _emissions(program: Program, body: Node) -> list[Node]:
    """Event emissions in ``body``: ``emit E(..)``, and the bare ``E(..)`` of solc before 0.4.21."""
    out = list(program.nodes(body, "EmitStatement"))
    for call in program.nodes(body, "FunctionCall"):
        ref = (call.get("expression") or {}).get("referencedDeclaration")
        if ref is not None and (program.nodes_by_id.get(int(ref)) or {}).get("nodeType") == "EventDefinition":
            out.append(call)
    return out


def captured_untested(program: Program, fn: Function | Modifier) -> Iterator[tuple[Node, Node]]:
    """(declaration statement, call) for each low-level call on an address whose success flag is
    kept in a local that is never read, or read only to be logged in an event."""
    if fn.body is None:
        return
    logged = [src(e) for e in _emissions(program, fn.body)]
    for stmt in program.nodes(fn.body, "VariableDeclarationStatement"):
        call = stmt.get("initialValue") or {}
        decls = stmt.get("declarations") or []
        if call.get("nodeType") != "FunctionCall" or not decls or not decls[0]:
            continue
        target = call_target(call)
        if target is None or callee_name(call) not in LOW_LEVEL:
            continue
        if not type_string(target.get("expression") or {}).startswith("address"):
            continue
        flag = decls[0].get("id")
        uses = [
            src(n) for n in program.nodes(fn.body, "Identifier") if n.get("referencedDeclaration") == flag
        ]
        if all(any(e.start <= u.start and u.end <= e.end for e in logged) for u in uses):
            yield stmt, call


def wraps_low_level(program: Program, contract: Contract, call: Node) -> bool:
    """Is ``call`` an internal helper that hands back a low-level call's success flag untested
    (``function pay(address to, uint v) internal returns (bool) { return to.send(v); }``)? Dropping
    its result drops the flag."""
    fn = program.internal_target(contract, call)
    if fn is None or fn.body is None or fn.name in ("transfer", "transferFrom", "approve"):
        return False
    rets = (fn.node.get("returnParameters") or {}).get("parameters") or []
    if len(rets) != 1 or type_string(rets[0]) != "bool":
        return False
    returns = program.nodes(fn.body, "Return")
    if not returns:
        return False
    flags: dict[int, Node] = {}
    for stmt in program.nodes(fn.body, "VariableDeclarationStatement"):
        init = stmt.get("initialValue") or {}
        decls = stmt.get("declarations") or []
        if decls and decls[0] and _low_level(init):
            flags[int(decls[0]["id"])] = init
    for ret in returns:
        expr = ret.get("expression") or {}
        if _low_level(expr):
            continue
        ref = expr.get("referencedDeclaration") if expr.get("nodeType") == "Identifier" else None
        if ref is None or int(ref) not in flags:
            return False
        # the flag must reach the caller untested: a require or an if on it inside is a check
        uses = [n for n in program.nodes(fn.body, "Identifier") if n.get("referencedDeclaration") == ref]
        if any(not any(u is x for r in returns for x in walk(r)) for u in uses):
            return False
    return True


def _low_level(call: Node) -> bool:
    target = call_target(call) if call.get("nodeType") == "FunctionCall" else None
    return (
        target is not None
        and callee_name(call) in ("send", "call")
        and type_string(target.get("expression") or {}).startswith("address")
    )


def check_unchecked_calls(program: Program, contract: Contract) -> Iterator[Localisation]:
    # a modifier's body runs inside every function it guards: a dropped result there (a fee
    # forwarded before each purchase) is dropped on every one of them
    parts: list[Function | Modifier] = [*contract.functions, *contract.modifiers]
    for fn in parts:
        if program.text_of(fn.node) is None or fn.body is None:
            continue
        for stmt, call in captured_untested(program, fn):
            yield localisation(
                program,
                "unchecked-lowlevel",
                VulnClass.UNCHECKED_RETURN,
                contract,
                fn,
                stmt,
                # the author kept the flag, so less sure than a dropped one, still above checked math
                0.7,
                f"the result of .{callee_name(call)} is kept but never tested: a failed call goes on "
                "as if it had paid",
            )
        for stmt in _ignored_calls(fn):
            call = stmt["expression"]
            target = call_target(call)
            name = callee_name(call)
            if target is None:
                if wraps_low_level(program, contract, call):
                    yield localisation(
                        program,
                        "unchecked-lowlevel",
                        VulnClass.UNCHECKED_RETURN,
                        contract,
                        fn,
                        stmt,
                        0.7,
                        f"the result of {name}, a low-level call's success flag handed back untested, "
                        "is ignored: a failed call goes unnoticed",
                    )
                continue
            base_type = type_string(target.get("expression") or {})
            if name in LOW_LEVEL and base_type.startswith("address"):
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
