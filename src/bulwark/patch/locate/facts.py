"""Facts about functions that several checks (and the fix templates) share."""

from __future__ import annotations

from bulwark.patch.solast import Contract, Function, Node, Program, call_target, callee_name, type_string

LOCK_WORDS = ("nonreentrant", "noreentran", "reentrancyguard", "lock", "mutex", "nonreentrantview")
INIT_MODIFIERS = frozenset({"initializer", "reinitializer", "onlyInitializing"})


def has_lock(fn: Function) -> bool:
    return any(any(w in n.lower() for w in LOCK_WORDS) for n in fn.modifier_names)


def entry_functions(contract: Contract) -> list[Function]:
    return [f for f in contract.all_functions if f.is_entry and f.mutates and f.body is not None]


def own_entries(program: Program, contract: Contract) -> list[Function]:
    """Entry points whose code is in an editable file (we can only patch those)."""
    return [f for f in entry_functions(contract) if program.text_of(f.node) is not None]


def is_initializer(fn: Function) -> bool:
    return bool(INIT_MODIFIERS & set(fn.modifier_names))


def is_value_call(call: Node) -> bool:
    name = callee_name(call)
    expr = call.get("expression") or {}
    return (
        name == "call"
        or expr.get("nodeType") == "FunctionCallOptions"
        or (
            expr.get("nodeType") == "FunctionCall"
            and (expr.get("expression") or {}).get("memberName") == "value"
        )
    )


def pays_out(fn: Function) -> bool:
    """Does ``fn`` itself send ether (transfer, send, or a call with value)?"""
    for call in fn.calls():
        target = call_target(call) or {}
        if not type_string(target.get("expression") or {}).startswith("address"):
            continue
        name = callee_name(call)
        if name in ("transfer", "send") or (name == "call" and is_value_call(call)):
            return True
    return False
