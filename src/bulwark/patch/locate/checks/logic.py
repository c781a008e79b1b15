"""Logic flaws whose fix is a missing check, inferred from the contract itself:

* ``unread-flag``: a function records that a caller (or key) has acted (``voted[msg.sender] = true``)
  but nothing ever reads the record, so the action can be repeated;
* ``replayable-payout``: a function anyone may call pays out an amount read from a stored record
  and changes no state at all, so the same call pays again and again; or it changes only totals
  and counters (``totalPaid += amount``), never the record nor anything kept per key;
* ``sibling-owner-check``: the functions that write a keyed record check that the caller owns it
  (``records[k].owner == msg.sender``, ``owners[k] == msg.sender`` for a mapping of owners, or
  ``if (r.owner != msg.sender) throw;`` through a ``var`` pointer), but one overwrites it (the
  whole record, or the owner entry) with no such check;
* ``unpaid-stake``: a payable function records an amount its caller names (a bet's stake, a
  deposit) in storage without ever looking at ``msg.value``, and the contract later pays ether out
  of that record: the caller is credited for ether it never sent.
"""

from __future__ import annotations

from collections.abc import Iterator

from bulwark.domain import VulnClass
from bulwark.domain.patch import Localisation
from bulwark.patch.locate.facts import entry_functions, is_value_call, own_entries
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
    is_msg_sender,
    type_string,
    walk,
)


def _state_root(program: Program, expr: Node) -> int | None:
    root = base_variable(expr) or {}
    ref = root.get("referencedDeclaration")
    if ref is not None and (program.nodes_by_id.get(int(ref)) or {}).get("stateVariable"):
        return int(ref)
    return None


def _is_true(node: Node) -> bool:
    return node.get("nodeType") == "Literal" and node.get("value") == "true"


def _read_in_conditions(program: Program, contract: Contract, var: int) -> bool:
    """Is state variable ``var`` read anywhere but on the left of an assignment?"""
    key = ("read-vars", contract.id)
    if key not in program.memo:  # one pass over the contract for every variable
        read: set[int] = set()
        bodies = [f.body for f in contract.all_functions] + [m.body for m in contract.all_modifiers.values()]
        for body in bodies:
            written: set[int] = set()
            for n in program.nodes(body):
                for t in assigned_targets(n):
                    written.update(id(x) for x in walk(t) if x.get("nodeType") == "Identifier")
            for n in program.nodes(body, "Identifier"):
                ref = n.get("referencedDeclaration")
                if ref is not None and id(n) not in written:
                    read.add(int(ref))
        program.memo[key] = frozenset(read)
    return var in program.memo[key]


def unread_flags(program: Program, fn: Function) -> list[Node]:
    """``flag[k] = true;`` statements in ``fn`` on a bool mapping nothing ever reads."""
    out: list[Node] = []
    for stmt in program.nodes(fn.body, "ExpressionStatement"):
        expr = stmt.get("expression") or {}
        if expr.get("nodeType") != "Assignment" or expr.get("operator") != "=":
            continue
        lhs = expr.get("leftHandSide") or {}
        if (
            lhs.get("nodeType") != "IndexAccess"
            or type_string(lhs) != "bool"
            or not _is_true(expr.get("rightHandSide") or {})
        ):
            continue
        var = _state_root(program, lhs)
        if var is not None and not _read_in_conditions(program, fn.contract, var):
            out.append(stmt)
    return out


def _changes_state(program: Program, fn: Function) -> bool:
    """Does ``fn`` (or what it calls internally) assign, delete, push or pop anything in storage?
    (A storage pointer merely declared is not a write.)"""
    for part in program.closure(fn):
        for n in program.nodes(part.body):
            if n.get("nodeType") == "FunctionCall" and callee_name(n) in ("push", "pop"):
                return True
            for t in assigned_targets(n):
                root = base_variable(t) or {}
                ref = root.get("referencedDeclaration")
                decl = program.nodes_by_id.get(int(ref)) if ref is not None else None
                if decl is not None and (
                    decl.get("stateVariable") or decl.get("storageLocation") == "storage"
                ):
                    return True
    return False


def _keyed(program: Program, var: int) -> bool:
    ts = type_string(program.nodes_by_id.get(var) or {})
    return ts.startswith("mapping") or ts.endswith("]")


def _only_totals(program: Program, fn: Function) -> bool:
    """``fn`` (with what it calls) writes state, but only plain variables: no mapping, array or
    struct entry, no push or pop, nothing through a storage pointer."""
    for part in program.closure(fn):
        for n in program.nodes(part.body):
            if n.get("nodeType") == "FunctionCall" and callee_name(n) in ("push", "pop"):
                return False
            for t in assigned_targets(n):
                root = base_variable(t) or {}
                ref = root.get("referencedDeclaration")
                decl = program.nodes_by_id.get(int(ref)) if ref is not None else None
                if decl is None:
                    continue
                if decl.get("storageLocation") == "storage" or _storage_pointer(decl):
                    return False
                if decl.get("stateVariable") and (t is not root or _keyed(program, int(ref))):  # type: ignore[arg-type]
                    return False
    return True


def replayable_payouts(program: Program, fn: Function) -> list[Node]:
    """Value payments in ``fn`` of an amount read from a keyed stored record, when ``fn`` (with all
    it calls) writes no state, or only plain totals and counters: nothing stops the same call from
    paying again."""
    if program.checks_sender(fn) or fn.body is None:
        return []
    if _changes_state(program, fn) and not _only_totals(program, fn):
        return []
    locals_from: dict[int, Node] = {}
    for st in program.nodes(fn.body, "VariableDeclarationStatement"):
        decls = [d for d in st.get("declarations") or [] if d]
        if len(decls) == 1 and st.get("initialValue"):
            locals_from[int(decls[0]["id"])] = st["initialValue"]

    def keyed_record(expr: Node, depth: int = 0) -> bool:
        for x in walk(expr):
            if x.get("nodeType") == "IndexAccess" and _state_root(program, x) is not None:
                return True
            ref = x.get("referencedDeclaration")
            init = (
                locals_from.get(int(ref)) if x.get("nodeType") == "Identifier" and ref is not None else None
            )
            if init is not None and depth < 3 and keyed_record(init, depth + 1):
                return True
        return False

    out: list[Node] = []
    for call in fn.calls():
        name = callee_name(call)
        target = call_target(call) or {}
        if name not in ("transfer", "send", "call") or not type_string(
            target.get("expression") or {}
        ).startswith("address"):
            continue
        if name == "call" and not is_value_call(call):
            continue
        args = call.get("arguments") or []
        amount = args[0] if name in ("transfer", "send") and args else None
        if amount is not None and keyed_record(amount):
            out.append(call)
    return out


def owner_checks(program: Program, contract: Contract) -> dict[tuple[int, str], str]:
    """(record variable, owner field) -> how siblings name it, for keyed records whose writers
    check ``var[k].field == msg.sender`` (directly or through a storage pointer); once per contract."""
    key = ("owner-checks", contract.id)
    if key not in program.memo:
        program.memo[key] = _owner_checks(program, contract)
    return dict(program.memo[key])


def _storage_pointer(decl: Node) -> bool:
    """A local that points into storage: ``Record storage r = ...``, or ``var r = records[k]`` of a
    struct (solc 0.4 infers a storage pointer and marks no location)."""
    if decl.get("storageLocation") == "storage":
        return True
    return type_string(decl).endswith(" storage pointer")


def _owner_checks(program: Program, contract: Contract) -> dict[tuple[int, str], str]:
    out: dict[tuple[int, str], str] = {}
    for fn in entry_functions(contract):
        pointers: dict[int, Node] = {}
        for st in program.nodes(fn.body, "VariableDeclarationStatement"):
            decls = [d for d in st.get("declarations") or [] if d]
            if len(decls) == 1 and _storage_pointer(decls[0]) and st.get("initialValue"):
                pointers[int(decls[0]["id"])] = st["initialValue"]
        for n in program.nodes(fn.body, "BinaryOperation"):
            # `require(r.owner == msg.sender)`, or the old `if (r.owner != msg.sender) throw;`
            if n.get("operator") not in ("==", "!="):
                continue
            sides = [n.get("leftExpression") or {}, n.get("rightExpression") or {}]
            if not any(is_msg_sender(s) for s in sides):
                continue
            for s in sides:
                if s.get("nodeType") == "IndexAccess" and type_string(s).startswith("address"):
                    # a mapping from the key to its owner (``owners[name] == msg.sender``)
                    var = _state_root(program, s)
                    if var is not None and (s.get("baseExpression") or {}).get("nodeType") == "Identifier":
                        out[(var, "")] = fn.name
                    continue
                if s.get("nodeType") != "MemberAccess" or not type_string(s).startswith("address"):
                    continue
                base = s.get("expression") or {}
                ref = base.get("referencedDeclaration")
                if base.get("nodeType") == "Identifier" and ref is not None and int(ref) in pointers:
                    base = pointers[int(ref)]
                if base.get("nodeType") != "IndexAccess":
                    continue
                var = _state_root(program, base)
                if var is not None:
                    out[(var, str(s.get("memberName")))] = fn.name
    return out


def unchecked_record_writes(program: Program, fn: Function) -> list[tuple[Node, int, str]]:
    """(assignment, record variable, owner field) where ``fn`` overwrites a whole keyed record
    (``records[k] = Record(...)``) that sibling writers guard by its owner field, and ``fn`` itself
    never compares that field."""
    checked = owner_checks(program, fn.contract)
    if not checked or fn.body is None:
        return []
    out: list[tuple[Node, int, str]] = []
    compared = {
        str(n.get("memberName"))
        for n in program.nodes(fn.body, "MemberAccess")
        if type_string(n).startswith("address")
    }
    params = {p.get("id") for p in (fn.node.get("parameters") or {}).get("parameters") or []}
    # owner mappings ``fn`` compares an entry of (with anything: its own check)
    compared_vars = {
        _state_root(program, side)
        for n in program.nodes(fn.body, "BinaryOperation")
        if n.get("operator") in ("==", "!=")
        for side in (n.get("leftExpression") or {}, n.get("rightExpression") or {})
        if side.get("nodeType") == "IndexAccess"
    }
    for n in program.nodes(fn.body, "Assignment"):
        lhs = n.get("leftHandSide") or {}
        if n.get("operator") != "=" or lhs.get("nodeType") != "IndexAccess":
            continue
        var = _state_root(program, lhs)
        for (v, field), _ in checked.items():
            if v != var:
                continue
            whole_record = field and field not in compared and type_string(lhs).startswith("struct ")
            # the owner of a key the caller names, set by a caller who is not privileged (an admin
            # may reassign; a key the function allocates itself, or the caller's own, is no takeover)
            owner_entry = (
                not field
                and var not in compared_vars
                and type_string(lhs).startswith("address")
                and (lhs.get("baseExpression") or {}).get("nodeType") == "Identifier"
                and (lhs.get("indexExpression") or {}).get("referencedDeclaration") in params
                and not program.checks_sender(fn)
            )
            if whole_record or owner_entry:
                out.append((n, v, field))
    return out


def _reads_msg_value(program: Program, fn: Function) -> bool:
    for part in program.closure(fn):
        for n in program.nodes(part.body, "MemberAccess"):
            base = n.get("expression") or {}
            if (
                n.get("memberName") == "value"
                and base.get("nodeType") == "Identifier"
                and base.get("name") == "msg"
            ):
                return True
    return False


def _paid_from(program: Program, contract: Contract) -> frozenset[int]:
    """State variables an ether payment's amount is read from, anywhere in the contract (directly
    or through a local initialised from them, such as a storage pointer ``Bet storage b = bets[i]``)."""
    key = ("paid-from", contract.id)
    if key in program.memo:
        return frozenset(program.memo[key])
    out: set[int] = set()
    for fn in contract.all_functions:
        if fn.body is None:
            continue
        # what each local is given: its initial value and every later assignment to it
        inits: dict[int, list[Node]] = {}
        for st in program.nodes(fn.body, "VariableDeclarationStatement"):
            decls = [d for d in st.get("declarations") or [] if d]
            if len(decls) == 1 and st.get("initialValue"):
                inits.setdefault(int(decls[0]["id"]), []).append(st["initialValue"])
        for n in program.nodes(fn.body, "Assignment"):
            lhs = n.get("leftHandSide") or {}
            ref = lhs.get("referencedDeclaration") if lhs.get("nodeType") == "Identifier" else None
            decl = program.nodes_by_id.get(int(ref)) if ref is not None else None
            if decl is not None and not decl.get("stateVariable"):
                inits.setdefault(int(ref), []).append(n.get("rightHandSide") or {})  # type: ignore[arg-type]
        for call in fn.calls():
            name = callee_name(call)
            target = call_target(call) or {}
            if name not in ("transfer", "send") or not type_string(target.get("expression") or {}).startswith(
                "address"
            ):
                continue
            todo = list(call.get("arguments") or [])[:1]
            for _ in range(4):
                nxt: list[Node] = []
                for expr in todo:
                    for x in walk(expr):
                        if x.get("nodeType") != "Identifier" or x.get("referencedDeclaration") is None:
                            continue
                        ref = int(x["referencedDeclaration"])
                        if (program.nodes_by_id.get(ref) or {}).get("stateVariable"):
                            out.add(ref)
                        elif ref in inits:
                            nxt.extend(inits[ref])
                todo = nxt
    program.memo[key] = frozenset(out)
    return frozenset(out)


def unpaid_stakes(program: Program, fn: Function) -> list[Node]:
    """Amount parameters of the payable ``fn`` that it stores in a record the contract pays ether
    out of, when ``fn`` (with what it calls) never reads ``msg.value``."""
    if fn.mutability != "payable" or fn.body is None or _reads_msg_value(program, fn):
        return []
    params = {
        int(p["id"]): p
        for p in (fn.node.get("parameters") or {}).get("parameters") or []
        if type_string(p).startswith("uint")
    }
    if not params:
        return []
    paid = _paid_from(program, fn.contract)
    stored: list[tuple[int | None, Node]] = []  # (state variable written, value written)
    for n in program.nodes(fn.body):
        if n.get("nodeType") == "Assignment":
            stored.append((_state_root(program, n.get("leftHandSide") or {}), n.get("rightHandSide") or {}))
        elif n.get("nodeType") == "FunctionCall" and callee_name(n) == "push":
            base = (n.get("expression") or {}).get("expression") or {}
            for arg in n.get("arguments") or []:
                stored.append((_state_root(program, base), arg))
    out: list[Node] = []
    for var, value in stored:
        if var is None or var not in paid:
            continue
        for x in walk(value):
            ref = x.get("referencedDeclaration") if x.get("nodeType") == "Identifier" else None
            if ref is not None and int(ref) in params and params[int(ref)] not in out:
                out.append(params[int(ref)])
    return out


def check_logic(program: Program, contract: Contract) -> Iterator[Localisation]:
    for fn in own_entries(program, contract):
        if fn.kind != "function":
            continue
        for stmt in unread_flags(program, fn)[:1]:
            yield localisation(
                program,
                "unread-flag",
                VulnClass.INVARIANT_BREAK,
                contract,
                fn,
                stmt,
                0.6,
                f"{fn.name} records that it ran for this key ({fn.source.of(stmt) if fn.source else ''}) "
                "but nothing ever reads that record, so it can run again for the same key",
            )
        for call in replayable_payouts(program, fn)[:1]:
            yield localisation(
                program,
                "replayable-payout",
                VulnClass.INVARIANT_BREAK,
                contract,
                fn,
                call,
                0.62,
                f"{fn.name} pays an amount read from a stored record but changes no state, so the same "
                "call pays again",
            )
        for param in unpaid_stakes(program, fn)[:1]:
            yield localisation(
                program,
                "unpaid-stake",
                VulnClass.INVARIANT_BREAK,
                contract,
                fn,
                None,
                0.7,
                f"{fn.name} is payable and records the amount {param.get('name')} its caller names, which "
                "the contract later pays ether out of, but never compares it with the ether sent",
            )
        for assignment, var, field in unchecked_record_writes(program, fn)[:1]:
            yield localisation(
                program,
                "sibling-owner-check",
                VulnClass.INVARIANT_BREAK,
                contract,
                fn,
                assignment,
                0.6,
                f"{fn.name} overwrites an entry of {program.name_of(var)} without checking its {field}, "
                f"which the other functions writing {program.name_of(var)} check against the caller",
            )
