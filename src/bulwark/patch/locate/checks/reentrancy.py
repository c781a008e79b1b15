"""Re-entrancy: state written after an external call that can call back (alone or through an
unlocked entry point sharing that state)."""

from __future__ import annotations

from collections.abc import Iterator

from bulwark.domain import VulnClass
from bulwark.domain.patch import Localisation
from bulwark.patch.locate.checks.dos import stored_root
from bulwark.patch.locate.facts import entry_functions, has_lock, is_value_call, own_entries
from bulwark.patch.locate.finding import localisation
from bulwark.patch.solast import (
    Contract,
    Function,
    Node,
    Program,
    base_variable,
    call_target,
    callee_name,
    is_external_call,
    src,
    type_string,
)


def _can_reenter(call: Node) -> bool:
    name = callee_name(call)
    target = call_target(call) or {}
    if name in ("transfer", "send") and type_string(target.get("expression") or {}).startswith("address"):
        return False  # 2300 gas stipend: cannot write state when re-entered
    fn_type = type_string(target)
    return not (" view" in fn_type or " pure" in fn_type or name == "staticcall")


def _written_after(program: Program, contract: Contract, body: Node, after: int) -> set[int]:
    written: set[int] = set()
    for n in program.nodes(body):
        if src(n).start >= after:
            written |= _writes_of(program, contract, n)
            written |= _pointer_writes(program, body, n)
    return written


def _pointer_writes(program: Program, body: Node, n: Node) -> set[int]:
    """State written through a local storage pointer (``Member storage m = members[msg.sender];
    ... m.balance = 0``): a struct kept in a mapping or an array is cleared that way."""
    from bulwark.patch.solast import assigned_targets

    out: set[int] = set()
    for t in assigned_targets(n):
        ref = (base_variable(t) or {}).get("referencedDeclaration")
        decl = program.nodes_by_id.get(int(ref)) if ref is not None else None
        if decl is None or decl.get("stateVariable") or decl.get("storageLocation") != "storage":
            continue
        root = stored_root(program, body, t)
        if root is not None:
            out.add(root)
    return out


def reentrancy_calls(program: Program, fn: Function) -> list[tuple[Node, set[int]]]:
    """External calls of ``fn`` that can re-enter, each with the state written after it; also those
    made by the modifiers ``fn`` applies (a call before the modifier's ``_`` has the whole function
    body after it)."""
    out: list[tuple[Node, set[int]]] = []
    body = fn.body
    if body is None:
        return out
    for call in fn.external_calls():
        if _can_reenter(call):
            # the call inside a loop: everything written in the loop happens "after" as well
            out.append((call, _written_after(program, fn.contract, body, src(call).end)))
    for invocation in fn.modifiers:
        ref = (invocation.get("modifierName") or {}).get("referencedDeclaration")
        mod = program.resolve_modifier(fn.contract, ref)
        if mod is None or mod.body is None:
            continue
        holes = [src(p).start for p in program.nodes(mod.body, "PlaceholderStatement")]
        for call in program.nodes(mod.body, "FunctionCall"):
            if not is_external_call(call) or not _can_reenter(call):
                continue
            written = _written_after(program, fn.contract, mod.body, src(call).end)
            if any(h > src(call).end for h in holes):
                written |= _written_after(program, fn.contract, body, src(body).start)
            out.append((call, written))
    return out


def _writes_of(program: Program, contract: Contract, n: Node) -> set[int]:
    from bulwark.patch.solast import assigned_targets

    out: set[int] = set()
    for t in assigned_targets(n):
        b = base_variable(t)
        ref = b.get("referencedDeclaration") if b else None
        if ref is not None and (program.nodes_by_id.get(int(ref)) or {}).get("stateVariable"):
            out.add(int(ref))
    if n.get("nodeType") == "FunctionCall":
        target = program.internal_target(contract, n)
        if target is not None:
            out |= program.writes(target)
    return out


def check_reentrancy(program: Program, contract: Contract) -> Iterator[Localisation]:
    entries = entry_functions(contract)
    for fn in own_entries(program, contract):
        for call, written in reentrancy_calls(program, fn):
            if not written:
                continue
            names = ", ".join(sorted(program.name_of(v) for v in written))
            sharing = [
                g for g in entries if g.id != fn.id and program.writes(g) & (written | program.reads(fn))
            ]
            unlocked_sharing = [g for g in sharing if not has_lock(program, g)]
            if has_lock(program, fn) and not unlocked_sharing:
                continue
            score = 0.75 if is_value_call(call) else 0.65
            evidence = [f"{fn.name} writes {names} after an external call"]
            if unlocked_sharing:
                evidence.append("shared with " + ", ".join(g.name for g in unlocked_sharing))
            yield localisation(
                program, "reentrancy", VulnClass.REENTRANCY, contract, fn, call, score, *evidence
            )
            break
