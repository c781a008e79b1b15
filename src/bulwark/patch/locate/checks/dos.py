"""Push-payment denial of service: a payment whose refusal by its recipient reverts the function."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from bulwark.domain import VulnClass
from bulwark.domain.patch import Localisation
from bulwark.patch.locate.facts import entry_functions, is_value_call, own_entries
from bulwark.patch.locate.finding import localisation
from bulwark.patch.solast import (
    Contract,
    Function,
    Node,
    Program,
    base_variable,
    call_target,
    callee_name,
    is_msg_sender,
    src,
    type_string,
    walk,
)

_LOOPS = ("ForStatement", "WhileStatement", "DoWhileStatement")


def _result_checked(fn: Function, call: Node) -> bool:
    """Does a failure of ``call`` (a send or a low-level call) make ``fn`` revert?"""
    cs = src(call)
    for n in fn.program.nodes(fn.body):
        kind = n.get("nodeType")
        cond: Node | None = None
        if kind == "FunctionCall" and callee_name(n) in ("require", "assert") and n.get("arguments"):
            cond = n["arguments"][0]
        elif kind == "IfStatement":
            cond = n.get("condition")
        if cond is None:
            continue
        if any(x is call for x in walk(cond)):
            return True
    for st in (n for n in fn.program.nodes(fn.body) if n.get("nodeType") == "VariableDeclarationStatement"):
        init = st.get("initialValue") or {}
        if init is not call and not (
            init.get("nodeType") == "TupleExpression" and any(c is call for c in init.get("components") or [])
        ):
            continue
        decls = [d for d in st.get("declarations") or [] if d]
        ok_ids = {d.get("id") for d in decls[:1]}
        for n in fn.program.nodes(fn.body):
            kind = n.get("nodeType")
            cond = None
            if kind == "FunctionCall" and callee_name(n) in ("require", "assert") and n.get("arguments"):
                cond = n["arguments"][0]
            elif kind == "IfStatement":
                cond = n.get("condition")
            if (
                cond is not None
                and src(cond).start > cs.end
                and any(x.get("referencedDeclaration") in ok_ids for x in walk(cond))
            ):
                return True
    return False


def _caller_settable(program: Program, contract: Contract, var: int) -> bool:
    """Is state variable ``var`` set to ``msg.sender`` by a function anyone may call (a king, a
    highest bidder): then whoever it names can refuse payments on purpose."""
    key = ("caller-settable", contract.id, var)
    if key not in program.memo:
        program.memo[key] = _caller_settable_uncached(program, contract, var)
    return bool(program.memo[key])


def _caller_settable_uncached(program: Program, contract: Contract, var: int) -> bool:
    if not (program.nodes_by_id.get(var) or {}).get("stateVariable"):
        return False
    for g in entry_functions(contract):
        if program.checks_sender(g):
            continue
        for part in program.closure(g):
            for n in part.program.nodes(part.body):
                if n.get("nodeType") != "Assignment":
                    continue
                # through a local storage pointer too (``Slot storage s = slots[i]; s.holder =
                # msg.sender``): a struct kept in a mapping or an array is written that way
                if stored_root(program, part.body, n.get("leftHandSide") or {}) == var and any(
                    is_msg_sender(x) for x in walk(n.get("rightHandSide") or {})
                ):
                    return True
    return False


def stored_root(program: Program, body: Node | None, expr: Mapping[str, Any]) -> int | None:
    """The state variable ``expr`` is rooted in, also through a local copied from it
    (``address previous = highestBidder; ... previous.call{value: v}("")``) or pointing into it
    (``Slot storage s = slots[i]; ... s.holder.send(v)``), where ``body`` declares that local."""
    root = base_variable(expr) or {}
    ref = root.get("referencedDeclaration")
    if ref is None:
        return None
    decl = program.nodes_by_id.get(int(ref)) or {}
    if decl.get("stateVariable"):
        return int(ref)
    for st in program.nodes(body, "VariableDeclarationStatement"):
        decls = [d for d in st.get("declarations") or [] if d]
        if len(decls) == 1 and decls[0].get("id") == ref and st.get("initialValue"):
            inner = base_variable(st["initialValue"]) or {}
            iref = inner.get("referencedDeclaration")
            if iref is not None and (program.nodes_by_id.get(int(iref)) or {}).get("stateVariable"):
                return int(iref)
    return None


def blocking_payments(program: Program, fn: Function) -> list[Node]:
    """Value payments in ``fn`` whose refusal by the recipient reverts ``fn``, paid to someone other
    than the caller, in a loop or to an address kept in storage (a previous king, bidder, member)."""
    out: list[Node] = []
    body = fn.body
    if body is None:
        return out
    # a privileged caller picks when a batch runs, not who is in it: a refusing recipient in a loop
    # still blocks it (a keeper's payout queue)
    guarded = program.checks_sender(fn)
    loops = [src(n) for n in program.nodes(body) if n.get("nodeType") in _LOOPS]
    for call in fn.external_calls():
        target = call_target(call) or {}
        base = target.get("expression") or {}
        name = callee_name(call)
        if not type_string(base).startswith("address") or name not in ("transfer", "send", "call"):
            continue
        if any(is_msg_sender(x) for x in walk(base)):
            continue  # the caller's own payment: refusing it only hurts the caller
        if name == "call" and not is_value_call(call):
            continue
        if name != "transfer" and not _result_checked(fn, call):
            continue
        cs = src(call)
        in_loop = any(lp.start <= cs.start and cs.end <= lp.end for lp in loops)
        ref = stored_root(program, fn.body, base)
        stored = not guarded and ref is not None and _caller_settable(program, fn.contract, ref)
        if in_loop or stored:
            out.append(call)
    return out


def _hands_over(program: Program, fn: Function, call: Node) -> bool:
    """Does ``fn`` pay the recipient held in a state variable and then put its own caller there (a
    throne, a highest bid)? Then whoever takes the place next decides whether ``fn`` can ever run
    again: the blocking recipient is one step of the function's own normal use."""
    target = call_target(call) or {}
    ref = stored_root(program, fn.body, target.get("expression") or {})
    if ref is None or fn.body is None:
        return False
    for n in program.nodes(fn.body, "Assignment"):
        if stored_root(program, fn.body, n.get("leftHandSide") or {}) == ref and any(
            is_msg_sender(x) for x in walk(n.get("rightHandSide") or {})
        ):
            return True
    return False


def check_dos(program: Program, contract: Contract) -> Iterator[Localisation]:
    for fn in own_entries(program, contract):
        calls = blocking_payments(program, fn)
        if not calls:
            continue
        loops = [src(n) for n in fn.program.nodes(fn.body) if n.get("nodeType") in _LOOPS]
        in_loop = any(lp.start <= src(c).start < lp.end for c in calls for lp in loops)
        handed_over = (
            not in_loop and not program.checks_sender(fn) and any(_hands_over(program, fn, c) for c in calls)
        )
        yield localisation(
            program,
            "push-payment-dos",
            VulnClass.DOS,
            contract,
            fn,
            calls[0],
            # in a loop one refusing recipient blocks every other: as sure as a DoS finding gets; a
            # place anyone takes by calling (a throne) is as sure: the next holder can refuse for good,
            # and it must rank above the checked-math finding every pre-0.8 payment function carries;
            # paid with a value call it also carries a re-entrancy finding (state written after the
            # call), and it must score high enough to be fixed with it: a lock alone leaves the block
            0.7 if in_loop or handed_over else 0.55,
            f"{fn.name} reverts when one recipient refuses its payment"
            + (" inside a loop: one recipient blocks everyone" if in_loop else "")
            + (", and any caller takes that recipient's place" if handed_over else ""),
        )
