"""Unprotected privileged writes: a public function with no caller check that writes what
only privileged callers should (an owner, a fee, a variable otherwise set by guarded functions)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from bulwark.domain import VulnClass
from bulwark.domain.patch import Localisation
from bulwark.patch.locate.facts import entry_functions, is_initializer, is_value_call, own_entries
from bulwark.patch.locate.finding import localisation
from bulwark.patch.solast import (
    Contract,
    Function,
    Program,
    base_variable,
    call_target,
    callee_name,
    is_external_call,
    is_msg_sender,
    is_tx_origin,
    type_string,
    walk,
)


def check_access_control(program: Program, contract: Contract) -> Iterator[Localisation]:
    entries = entry_functions(contract)
    protected = [f for f in entries if program.checks_sender(f)]
    guard_vars = guard_variables(program, contract)
    # state variable -> the entry points writing it, built once (not a scan of every entry per function)
    writers: dict[int, list[Function]] = {}
    for g in entries:
        for v in program.writes(g):
            writers.setdefault(v, []).append(g)

    # state variable -> unguarded entry points that store a parameter into it as it is
    free_setters: dict[int, set[int]] = {}
    for g in entries:
        if g not in protected:
            for v in _freely_set(program, g):
                free_setters.setdefault(v, set()).add(g.id)

    def _writers_of(variables: set[int]) -> list[Function]:
        found = {g.id: g for v in variables for g in writers.get(v, ())}
        return [g for g in entries if g.id in found]  # entry order, as before

    def unprotected(fn: Function, score: float, why: str) -> Localisation:
        # every finding of this check: the function as a whole is the flaw
        return localisation(
            program, "unprotected-privileged-write", VulnClass.ACCESS_CONTROL, contract, fn, None, score, why
        )

    for fn in own_entries(program, contract):
        if fn.kind != "function" or program.checks_sender(fn) or is_initializer(fn):
            continue
        if fn.name == "initialize" or fn.name.startswith("init") or fn.name.startswith("__"):
            continue  # the initializer check handles these
        writes = program.writes(fn)
        pays = fn.mutability != "payable" and _pays_chosen_recipient(program, fn)
        users = (
            [g for g in contract.all_functions if g.id != fn.id and program.reaches(g, fn.id)] if pays else []
        )
        if users:
            # a payment step other functions call internally, left public: anyone pays themselves
            yield unprotected(
                fn,
                0.85,
                f"{fn.name} pays an address and amount its caller chooses with no caller check; "
                f"{users[0].name} uses it as an internal step, so it was never meant to be called alone",
            )
            continue
        if not writes:
            if pays and protected and _pays_chosen_amount(program, fn):
                # nothing is booked or debited, and no caller is looked at: a bare payout of the
                # contract's ether in a contract that checks callers elsewhere is the owner's tool
                yield unprotected(
                    fn,
                    0.8,
                    f"{fn.name} pays an address and an amount its caller chooses out of the contract's "
                    "ether, books nothing and checks no caller, unlike the contract's privileged functions",
                )
            continue
        takeover = writes & guard_vars
        if takeover and _enrols_for_ordinary_use(program, fn, takeover, entries, protected, writers):
            takeover = set()  # a sign-up: the flag it sets for its caller opens ordinary use only
        if takeover and fn.mutability != "payable":  # paying to become king/bidder is the game
            names = ", ".join(sorted(program.name_of(v) for v in takeover))
            yield unprotected(
                fn, 0.9, f"{fn.name} writes {names}, which gate privileged functions, with no caller check"
            )
            continue
        callers = [g for g in protected if g.id != fn.id and program.reaches(g, fn.id)]
        if callers:
            yield unprotected(
                fn,
                0.85,
                f"{fn.name} is public with no caller check, yet {callers[0].name} reaches it "
                f"only for privileged callers",
            )
            continue
        if protected and fn.mutability != "payable" and _credits_from_nothing(program, fn):
            names = ", ".join(sorted(program.name_of(v) for v in writes))
            yield unprotected(
                fn,
                0.75,
                f"{fn.name} credits a balance of the caller's choosing ({names}) without taking anything in "
                "return and with no caller check, in a contract that checks callers elsewhere",
            )
            continue
        if _sender_keyed(program, fn):
            continue
        # state that anyone may already set to a value of their choosing through another unguarded
        # function (a list anyone appends to) is not privileged, whatever the function is called
        public_state = all(free_setters.get(v, set()) - {fn.id} for v in writes)
        if protected and _privileged_name(fn.name) and not public_state:
            # set*/mint*/... with no caller check in a contract that checks callers elsewhere
            names = ", ".join(sorted(program.name_of(v) for v in writes))
            yield unprotected(
                fn,
                0.75,
                f"{fn.name} writes {names} with no caller check, unlike the contract's other privileged "
                "functions",
            )
            continue
        if fn.mutability == "payable" or any(is_msg_sender(n) for n in fn.program.nodes(fn.body)):
            continue  # takes the caller's money or acts for the caller: a user action
        others = [g for g in _writers_of(writes) if g.id != fn.id]
        if others and all(g in protected for g in others) and not _pays_out_booked(program, fn):
            shared = writes & set().union(*(program.writes(g) for g in others))
            names = ", ".join(sorted(program.name_of(v) for v in shared))
            yield unprotected(fn, 0.7, f"{names} is otherwise written only by privileged functions")


def _sender_entry(program: Program, node: Any, variables: set[int]) -> int | None:
    """The variable of ``variables`` that ``node`` indexes at the caller (``flag[msg.sender]``)."""
    if node.get("nodeType") != "IndexAccess":
        return None
    index = node.get("indexExpression") or {}
    if not is_msg_sender(index):
        return None
    ref = (base_variable(node) or {}).get("referencedDeclaration")
    return int(ref) if ref is not None and int(ref) in variables else None


def _enrols_for_ordinary_use(
    program: Program,
    fn: Function,
    flags: set[int],
    entries: list[Function],
    protected: list[Function],
    writers: dict[int, list[Function]],
) -> bool:
    """Does ``fn`` only set the caller's own entry of caller-keyed flags (``registered[msg.sender]``),
    flags that open nothing a privileged caller alone could do? That is a sign-up, not a takeover:
    each function checking the flag for its caller pays nothing out and writes only state that some
    ordinary function (neither guarded nor gated by the flags) writes too. An ``admins[msg.sender]``
    anyone sets, gating a withdrawal of the contract's ether or a price only the owner sets
    otherwise, stays a takeover."""
    from bulwark.patch.solast import assigned_targets

    for part in program.closure(fn):
        for n in part.program.nodes(part.body):
            if n.get("nodeType") not in ("Assignment", "UnaryOperation"):
                continue
            for t in assigned_targets(n):
                ref = (base_variable(t) or {}).get("referencedDeclaration")
                if ref is not None and int(ref) in flags and _sender_entry(program, t, flags) is None:
                    return False  # it writes another account's flag, or the flag itself
    gated = [
        g
        for g in entries
        if g.id != fn.id
        and any(
            _sender_entry(program, n, flags) is not None
            for part in program.closure(g)
            for n in part.program.nodes(part.body, "IndexAccess")
        )
    ]
    if not gated:
        return False
    gated_ids = {g.id for g in gated}
    guarded_ids = {g.id for g in protected} | gated_ids | {fn.id}
    for g in gated:
        for part in program.closure(g):
            for call in part.program.nodes(part.body, "FunctionCall"):
                target = (call_target(call) or {}).get("expression") or {}
                if callee_name(call) in ("send", "transfer") and type_string(target).startswith("address"):
                    return False
                if is_value_call(call) and type_string(target).startswith("address"):
                    return False
        for v in program.writes(g) - flags:
            if all(w.id in guarded_ids for w in writers.get(v, ())):
                return False  # state only privileged (or flag-gated) functions write
    return True


_PRIVILEGED_PREFIXES = ("set", "mint", "update", "change", "configure", "pause", "unpause", "upgrade")


def _privileged_name(name: str) -> bool:
    """Names of functions that are privileged in nearly every contract (setters, minting)."""
    lowered = name.lower()
    return lowered.startswith(_PRIVILEGED_PREFIXES) and not lowered.startswith(("settle", "setup"))


def guard_variables(program: Program, contract: Contract) -> set[int]:
    """State variables compared with msg.sender in a check (owner, admins[...])."""
    out: set[int] = set()
    bodies: list[Any] = [f.body for f in contract.all_functions] + [
        m.body for m in contract.all_modifiers.values()
    ]
    for body in bodies:
        for n in program.nodes(body):
            if n.get("nodeType") == "BinaryOperation" and n.get("operator") in ("==", "!="):
                sides = [n.get("leftExpression") or {}, n.get("rightExpression") or {}]
                if any(is_msg_sender(s) or is_tx_origin(s) for s in sides):
                    for s in sides:
                        b = base_variable(s)
                        ref = b.get("referencedDeclaration") if b else None
                        if ref is not None and (program.nodes_by_id.get(int(ref)) or {}).get("stateVariable"):
                            out.add(int(ref))
            if (
                n.get("nodeType") == "IndexAccess"
                and type_string(n) == "bool"
                and any(is_msg_sender(x) for x in walk(n.get("indexExpression") or {}))
            ):
                b = base_variable(n)
                ref = b.get("referencedDeclaration") if b else None
                if ref is not None and (program.nodes_by_id.get(int(ref)) or {}).get("stateVariable"):
                    out.add(int(ref))
    return out


def _credits_from_nothing(program: Program, fn: Function) -> bool:
    """Does ``fn`` add to a stored balance at a key its caller gives (``bal[to] += v``) while debiting
    nothing (no ``-=`` on storage, no value received)? Creation of value: minting."""
    params = {int(p["id"]) for p in (fn.node.get("parameters") or {}).get("parameters") or []}
    credited = False
    if any(
        is_external_call(c) for part in program.closure(fn) for c in program.nodes(part.body, "FunctionCall")
    ):
        return False  # it deals with another contract (takes tokens in, a flash loan's fee): not from nothing
    for part in program.closure(fn):
        part_params = params | {
            int(p["id"]) for p in (part.node.get("parameters") or {}).get("parameters") or []
        }
        for n in program.nodes(part.body, "Assignment"):
            lhs = n.get("leftHandSide") or {}
            root = base_variable(lhs) or {}
            ref = root.get("referencedDeclaration")
            if ref is None or not (program.nodes_by_id.get(int(ref)) or {}).get("stateVariable"):
                continue
            if n.get("operator") == "-=" or (
                n.get("operator") == "="
                and any(
                    x.get("nodeType") == "BinaryOperation" and x.get("operator") == "-"
                    for x in walk(n.get("rightHandSide") or {})
                )
            ):
                return False
            if n.get("operator") == "+=" and lhs.get("nodeType") == "IndexAccess":
                index = lhs.get("indexExpression") or {}
                if any(x.get("referencedDeclaration") in part_params for x in walk(index)):
                    credited = True
    return credited


def _pays_chosen_recipient(program: Program, fn: Function) -> bool:
    """Does ``fn`` send ether to a recipient given as one of its parameters (an amount it did not
    receive: it is not payable)?"""
    params = {int(p["id"]) for p in (fn.node.get("parameters") or {}).get("parameters") or []}
    for call in program.nodes(fn.body, "FunctionCall"):
        target = call_target(call) or {}
        base = target.get("expression") or {}
        if callee_name(call) not in ("send", "transfer", "call") or not type_string(base).startswith(
            "address"
        ):
            continue
        if callee_name(call) == "call" and not is_value_call(call):
            continue
        if any(x.get("referencedDeclaration") in params for x in walk(base)):
            return True
    return False


def _pays_chosen_amount(program: Program, fn: Function) -> bool:
    """Does ``fn`` send an amount taken from its parameters, in a body that never names its caller?"""
    params = {int(p["id"]) for p in (fn.node.get("parameters") or {}).get("parameters") or []}
    if any(is_msg_sender(n) for n in program.nodes(fn.body)):
        return False
    for call in program.nodes(fn.body, "FunctionCall"):
        target = call_target(call) or {}
        if not type_string(target.get("expression") or {}).startswith("address"):
            continue
        name = callee_name(call)
        if name in ("send", "transfer"):
            amount: Any = (call.get("arguments") or [None])[0]
        elif name == "call" and is_value_call(call):
            inner = call.get("expression") or {}
            options = dict(zip(inner.get("names") or [], inner.get("options") or [], strict=False))
            amount = options.get("value") or (inner.get("arguments") or [None])[0]
        else:
            continue
        if amount and any(x.get("referencedDeclaration") in params for x in walk(amount)):
            return True
    return False


def _freely_set(program: Program, fn: Function) -> set[int]:
    """State variables ``fn`` stores one of its parameters into as it is (``var[k] = p``, ``var.push(p)``)."""
    params = {int(p["id"]) for p in (fn.node.get("parameters") or {}).get("parameters") or []}
    out: set[int] = set()

    def is_param(node: Any) -> bool:
        ident = bool(node) and node.get("nodeType") == "Identifier"
        return ident and node.get("referencedDeclaration") in params

    for n in program.nodes(fn.body):
        kind = n.get("nodeType")
        root: Any = None
        if kind == "Assignment" and n.get("operator") == "=" and is_param(n.get("rightHandSide")):
            root = base_variable(n.get("leftHandSide") or {})
        elif (
            kind == "FunctionCall"
            and callee_name(n) == "push"
            and any(is_param(a) for a in n.get("arguments") or [])
        ):
            root = base_variable((call_target(n) or {}).get("expression") or {})
        ref = (root or {}).get("referencedDeclaration")
        if ref is not None:
            out.add(int(ref))
    return out


def _pays_out_booked(program: Program, fn: Function) -> bool:
    """Does ``fn`` pay ether only to addresses it reads from storage (a payout or refund run over
    booked recipients)? Anyone may trigger such a run: the privileged part was booking them."""
    paid = False
    params = {int(p["id"]) for p in (fn.node.get("parameters") or {}).get("parameters") or []}
    for part in program.closure(fn):
        for call in part.program.nodes(part.body, "FunctionCall"):
            name = callee_name(call)
            target = call_target(call) or {}
            base = target.get("expression") or {}
            if name not in ("send", "transfer", "call") or not type_string(base).startswith("address"):
                continue
            if name == "call" and not is_value_call(call):
                continue
            if any(x.get("referencedDeclaration") in params for x in walk(base)):
                return False  # the caller picks the recipient
            paid = True
    return paid


def _sender_keyed(program: Program, fn: Function) -> bool:
    """Does ``fn`` write state keyed by the caller (balances[msg.sender]...): a user action."""
    for part in program.closure(fn):
        for n in part.program.nodes(part.body):
            if n.get("nodeType") in ("Assignment", "UnaryOperation"):
                from bulwark.patch.solast import assigned_targets

                for t in assigned_targets(n):
                    for x in walk(t):
                        if x.get("nodeType") == "IndexAccess" and any(
                            is_msg_sender(y) for y in walk(x.get("indexExpression") or {})
                        ):
                            return True
    return False
