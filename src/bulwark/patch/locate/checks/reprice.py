"""Transaction-order dependence on a privileged parameter: a rate the owner may change at any time
(a price, an exchange rate) converts a payment in a function anyone calls. The owner, or whoever
holds the role, sees a payment pending and changes the rate ahead of it: the payer gets what the
new rate gives, not what it saw when it signed."""

from __future__ import annotations

from collections.abc import Iterator

from bulwark.domain import VulnClass
from bulwark.domain.patch import Localisation
from bulwark.patch.locate.facts import own_entries
from bulwark.patch.locate.finding import localisation
from bulwark.patch.solast import (
    Contract,
    Function,
    Node,
    Program,
    assigned_targets,
    base_variable,
    type_string,
)

RATE_OPS = frozenset({"*", "/"})


def guarded_setters(program: Program, contract: Contract) -> dict[int, list[Function]]:
    """Value state variables (not mappings or arrays) written only by caller-gated functions
    (constructors aside), by variable id."""
    key = ("guarded-setters", contract.id)
    if key in program.memo:
        return dict(program.memo[key])
    writers: dict[int, list[Function]] = {}
    open_writes: set[int] = set()
    for fn in contract.all_functions:
        if fn.body is None or fn.kind == "constructor":
            continue
        gated = program.checks_sender(fn)
        for n in program.nodes(fn.body):
            for t in assigned_targets(n):
                if t.get("nodeType") != "Identifier":
                    continue
                ref = int(t.get("referencedDeclaration") or -1)
                decl = program.nodes_by_id.get(ref) or {}
                if not decl.get("stateVariable") or not type_string(decl).startswith("uint"):
                    continue
                if gated:
                    writers.setdefault(ref, []).append(fn)
                else:
                    open_writes.add(ref)
    out = {v: fns for v, fns in writers.items() if v not in open_writes}
    program.memo[key] = out
    return dict(out)


def rate_reads(program: Program, fn: Function, var: int) -> list[Node]:
    """Reads of ``var`` in ``fn`` that scale an amount (an operand of ``*`` or ``/``)."""
    out: list[Node] = []
    for n in program.nodes(fn.body, "BinaryOperation"):
        if n.get("operator") not in RATE_OPS:
            continue
        for side in (n.get("leftExpression") or {}, n.get("rightExpression") or {}):
            root = base_variable(side) or {}
            if side.get("nodeType") == "Identifier" and root.get("referencedDeclaration") == var:
                out.append(side)
    return out


def repriced_payments(program: Program, fn: Function) -> list[tuple[int, Node]]:
    """(rate variable, its read) where ``fn`` (payable, open to anyone) converts a payment at a rate
    only caller-gated functions set."""
    if fn.mutability != "payable" or fn.body is None or program.checks_sender(fn):
        return []
    setters = guarded_setters(program, fn.contract)
    return [(var, read) for var in sorted(setters) for read in rate_reads(program, fn, var)[:1]]


def check_reprice(program: Program, contract: Contract) -> Iterator[Localisation]:
    for fn in own_entries(program, contract):
        for var, read in repriced_payments(program, fn)[:1]:
            yield localisation(
                program,
                "reprice-ahead",
                VulnClass.FRONT_RUNNING,
                contract,
                fn,
                read,
                # joins unchecked arithmetic's fix in old code (bundled within 0.05 of it)
                0.55,
                f"{fn.name} converts a payment at {program.name_of(var)}, which a privileged account may "
                "change at any moment: it can change it ahead of a pending payment",
            )
