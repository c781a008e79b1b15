"""A loop over a storage array that anyone can grow: each new element makes every later run of
the loop dearer, until it no longer fits in a block and the function is blocked for good. Clearing
such an array (``delete list``, ``list = new address[](0)``, ``list.length = 0``) is the same loop,
written by the compiler: it zeroes every slot."""

from __future__ import annotations

from collections.abc import Iterator

from bulwark.domain import VulnClass
from bulwark.domain.patch import Localisation
from bulwark.patch.locate.facts import entry_functions, is_value_call
from bulwark.patch.locate.finding import localisation
from bulwark.patch.solast import (
    Contract,
    Function,
    Node,
    Program,
    assigned_targets,
    base_variable,
    call_target,
    callee_name,
    is_external_call,
    src,
    type_string,
    walk,
)

_LOOPS = ("ForStatement", "WhileStatement", "DoWhileStatement")
# the whole loop should fit in this much gas (a sixth of a 30M block), leaving room for the rest of
# the transaction and for blocks that are already partly full
LOOP_GAS_BUDGET = 5_000_000
SLOAD, SSTORE_NEW, CALL = 2_100, 22_100, 9_000


def _array_of_length(node: Node) -> int | None:
    """The state array id ``x`` for a ``x.length`` node on a dynamic storage array."""
    if node.get("nodeType") != "MemberAccess" or node.get("memberName") != "length":
        return None
    base = node.get("expression") or {}
    if not type_string(base).endswith("[] storage ref"):
        return None
    root = base_variable(base) or {}
    ref = root.get("referencedDeclaration")
    return int(ref) if ref is not None and base is root else None


def growth_sites(program: Program, contract: Contract, array: int) -> list[tuple[Function, Node]]:
    """(function, statement) where an entry point anyone may call appends to ``array``."""
    key = ("growth-sites", contract.id)
    if key not in program.memo:
        program.memo[key] = _all_growth_sites(program, contract)
    return list(program.memo[key].get(array, ()))


def _all_growth_sites(program: Program, contract: Contract) -> dict[int, list[tuple[Function, Node]]]:
    """array id -> its growth sites, for every array at once (one pass over the entry points)."""
    out: dict[int, list[tuple[Function, Node]]] = {}
    for fn in entry_functions(contract):
        if program.checks_sender(fn) or fn.body is None or program.text_of(fn.body) is None:
            continue
        for stmt in program.nodes(fn.body, "ExpressionStatement"):
            expr = stmt.get("expression") or {}
            grown: set[int] = set()
            if expr.get("nodeType") == "FunctionCall" and callee_name(expr) == "push":
                root = base_variable((call_target(expr) or {}).get("expression") or {}) or {}
                if root.get("referencedDeclaration") is not None:
                    grown.add(int(root["referencedDeclaration"]))
            elif expr.get("operator") in ("++", "+="):  # arr.length++ (solc < 0.6)
                grown |= {a for t in assigned_targets(expr) if (a := _array_of_length(dict(t))) is not None}
            for array in grown:
                out.setdefault(array, []).append((fn, stmt))
    return out


def iteration_gas(program: Program, loop: Node) -> int:
    """A rough upper bound on one iteration's gas: cold reads, fresh writes and calls in its body."""
    body = loop.get("body") or {}
    reads = 0
    for n in walk(body):
        ref = n.get("referencedDeclaration")
        if n.get("nodeType") == "Identifier" and ref is not None:
            reads += bool((program.nodes_by_id.get(int(ref)) or {}).get("stateVariable"))
        elif n.get("nodeType") == "MemberAccess" and "storage" in type_string(n.get("expression") or {}):
            reads += 1  # a field of a stored struct: one more slot
    writes = sum(len(assigned_targets(n)) for n in walk(body))
    calls = sum(1 for n in walk(body) if n.get("nodeType") == "FunctionCall" and is_external_call(n))
    values = sum(1 for n in walk(body) if n.get("nodeType") == "FunctionCall" and is_value_call(n))
    return max(5_000, SLOAD * reads + SSTORE_NEW * writes + CALL * (calls + values))


def _paginated(cond: Node) -> bool:
    """``i < count && i < arr.length``: another bound (a page size) already limits the loop."""
    if cond.get("nodeType") != "BinaryOperation" or cond.get("operator") != "&&":
        return False
    sides = (cond.get("leftExpression") or {}, cond.get("rightExpression") or {})
    return any(
        not any(_array_of_length(x) is not None for x in walk(side)) or _paginated(side) for side in sides
    )


def growable_loops(program: Program, contract: Contract) -> list[tuple[Function, Node, int]]:
    """(function, loop, array) for loops in mutating functions bounded by a caller-growable array."""
    key = ("growable-loops", contract.id)
    if key in program.memo:
        return list(program.memo[key])
    out: list[tuple[Function, Node, int]] = []
    for fn in contract.functions:
        if not fn.mutates or fn.body is None or program.text_of(fn.body) is None:
            continue
        for loop in program.nodes(fn.body):
            if loop.get("nodeType") not in _LOOPS or _paginated(loop.get("condition") or {}):
                continue
            for n in walk(loop.get("condition") or {}):
                array = _array_of_length(n)
                if array is not None and growth_sites(program, contract, array):
                    out.append((fn, loop, array))
                    break
        for node in program.nodes(fn.body):
            array = _cleared(node)
            if array is not None and growth_sites(program, contract, array):
                out.append((fn, node, array))
    program.memo[key] = out
    return list(out)


def _cleared(node: Node) -> int | None:
    """The state array ``node`` empties as a whole (``delete a``, ``a = new T[](0)``, ``a.length = 0``)."""
    kind = node.get("nodeType")
    if kind == "UnaryOperation" and node.get("operator") == "delete":
        target = node.get("subExpression") or {}
    elif kind == "Assignment" and node.get("operator") == "=":
        target = node.get("leftHandSide") or {}
        length = _array_of_length(target)
        rhs = node.get("rightHandSide") or {}
        if length is not None:
            return length if rhs.get("nodeType") == "Literal" and rhs.get("value") == "0" else None
    else:
        return None
    if target.get("nodeType") != "Identifier" or not type_string(target).endswith("[] storage ref"):
        return None
    ref = target.get("referencedDeclaration")
    return int(ref) if ref is not None else None


def check_unbounded_loop(program: Program, contract: Contract) -> Iterator[Localisation]:
    for fn, loop, array in growable_loops(program, contract):
        pushers = sorted({g.name for g, _ in growth_sites(program, contract, array)})
        # the loop blocks a function other than the one that grows the array: someone else's
        others = any(name != fn.name for name in pushers)
        yield localisation(
            program,
            "unbounded-loop",
            VulnClass.DOS,
            contract,
            fn,
            loop if src(loop).length else None,
            0.65 if others else 0.5,
            f"{fn.name} {'loops over' if loop.get('nodeType') in _LOOPS else 'clears'} every element of "
            f"{program.name_of(array)}, which anyone can grow through {', '.join(pushers)}: enough cheap "
            "entries make it cost more gas than a block holds",
        )
