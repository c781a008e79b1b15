"""Facts about functions that several checks (and the fix templates) share."""

from __future__ import annotations

from bulwark.patch.solast import (
    Contract,
    Function,
    Node,
    Program,
    call_target,
    callee_name,
    type_string,
    walk,
)

LOCK_WORDS = ("nonreentrant", "noreentran", "reentrancyguard", "lock", "mutex", "nonreentrantview")
INIT_MODIFIERS = frozenset({"initializer", "reinitializer", "onlyInitializing"})


def has_lock(program: Program, fn: Function) -> bool:
    """Does ``fn`` apply a mutex: a modifier that writes storage both before and after its ``_``
    (a flag set on entry, cleared on exit), whatever it is called? ``unlocked`` or ``timeLocked``
    guarding a time is no lock; a guard's name counts only when its body cannot be read."""
    for invocation in fn.modifiers:
        name_node = invocation.get("modifierName") or {}
        mod = program.resolve_modifier(fn.contract, name_node.get("referencedDeclaration"))
        if mod is None or mod.body is None:
            name = str(name_node.get("name") or "").lower()
            if any(w in name for w in LOCK_WORDS):
                return True
            continue
        statements = mod.body.get("statements") or []
        holes = [i for i, st in enumerate(statements) if program.nodes(st, "PlaceholderStatement")]
        if not holes:
            continue
        before, after = statements[: holes[0]], statements[holes[-1] + 1 :]
        if any(_stores(program, fn.contract, st) for st in before) and any(
            _stores(program, fn.contract, st) for st in after
        ):
            return True
    return False


def _stores(program: Program, contract: Contract, statement: Node) -> bool:
    """Does ``statement`` write storage: a state variable, an ``sstore``/``tstore`` in assembly, or
    through an internal call that does (OpenZeppelin's ``_nonReentrantBefore()``)?"""
    if program.direct_writes(statement) or _assembly_stores(program, statement):
        return True
    for call in program.nodes(statement, "FunctionCall"):
        target = program.internal_target(contract, call)
        if target is not None and (
            program.writes(target) or any(_assembly_stores(program, p.body) for p in program.closure(target))
        ):
            return True
    return False


def _assembly_stores(program: Program, body: Node | None) -> bool:
    for asm in program.nodes(body, "InlineAssembly"):
        legacy = str(asm.get("operations") or "")  # solc < 0.6 keeps the block as text
        if "sstore" in legacy or "tstore" in legacy:
            return True
        if any(
            str((c.get("functionName") or {}).get("name")) in ("sstore", "tstore")
            for c in walk(asm)
            if c.get("nodeType") == "YulFunctionCall"
        ):
            return True
    return False


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
