"""A batch that one entry can stop: a loop over a list anyone appends to ``require``s something
of each entry, so a single entry that fails the check (queued on purpose) reverts the whole batch,
every time, and blocks the entries behind it for good."""

from __future__ import annotations

from collections.abc import Iterator

from bulwark.domain import VulnClass
from bulwark.domain.patch import Localisation
from bulwark.patch.locate.checks.unbounded_loop import growth_sites
from bulwark.patch.locate.finding import localisation
from bulwark.patch.solast import (
    Contract,
    Function,
    Node,
    Program,
    assigned_targets,
    base_variable,
    callee_name,
    walk,
)


def _element_locals(program: Program, body: Node, arrays: set[int]) -> set[int]:
    """Locals bound to an element of one of ``arrays`` (``Exit storage e = exits[i];``)."""
    out: set[int] = set()
    for st in program.nodes(body, "VariableDeclarationStatement"):
        decls = [d for d in st.get("declarations") or [] if d]
        init = st.get("initialValue") or {}
        if len(decls) == 1 and init.get("nodeType") == "IndexAccess":
            root = base_variable(init) or {}
            if root.get("referencedDeclaration") in arrays:
                out.add(int(decls[0]["id"]))
    return out


def _advances(rest: list[Node], loop: Node) -> bool:
    """Do the statements in ``rest`` write a variable the loop's condition reads (its progress)?"""
    in_condition = {
        x.get("referencedDeclaration")
        for x in walk(loop.get("condition") or {})
        if x.get("nodeType") == "Identifier"
    }
    for stmt in rest:
        for n in walk(stmt):
            for target in assigned_targets(n):
                if (base_variable(target) or {}).get("referencedDeclaration") in in_condition:
                    return True
    return False


def element_requires(program: Program, fn: Function) -> list[Node]:
    """``require`` statements directly in the body of a ``for`` loop (with its own increment) that
    test an element of a state array any caller can append to."""
    out: list[Node] = []
    contract = fn.contract
    for loop in program.nodes(fn.body, "ForStatement"):
        body = loop.get("body") or {}
        if body.get("nodeType") != "Block" or not loop.get("loopExpression"):
            continue
        arrays = {
            int(r)
            for n in walk(body)
            if n.get("nodeType") == "IndexAccess"
            and (r := (base_variable(n) or {}).get("referencedDeclaration")) is not None
            and (program.nodes_by_id.get(int(r)) or {}).get("stateVariable")
            and growth_sites(program, contract, int(r))
        }
        if not arrays:
            continue
        elements = _element_locals(program, body, arrays)
        statements = body.get("statements") or []
        for i, stmt in enumerate(statements):
            expr = stmt.get("expression") or {}
            if stmt.get("nodeType") != "ExpressionStatement" or callee_name(expr) != "require":
                continue
            cond = (expr.get("arguments") or [{}])[0]
            if _advances(statements[i + 1 :], loop):
                continue  # skipping the rest would skip the loop's own progress: it would spin
            if any(
                x.get("referencedDeclaration") in elements
                or (
                    x.get("nodeType") == "IndexAccess"
                    and (base_variable(x) or {}).get("referencedDeclaration") in arrays
                )
                for x in walk(cond)
            ):
                out.append(stmt)
    return out


def check_batch_require(program: Program, contract: Contract) -> Iterator[Localisation]:
    for fn in contract.functions:
        if not fn.mutates or fn.body is None or program.text_of(fn.body) is None:
            continue
        found = element_requires(program, fn)
        if found:
            yield localisation(
                program,
                "batch-element-require",
                VulnClass.DOS,
                contract,
                fn,
                found[0],
                0.6,
                f"{fn.name} reverts the whole batch when one entry fails a check, and anyone can queue an "
                "entry that fails it: every later run stops at that entry",
            )
