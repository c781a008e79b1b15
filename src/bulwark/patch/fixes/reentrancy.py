"""Reentrancy: one lock over the vulnerable function and every entry point sharing its state.

The contract's own ``nonReentrant`` is reused when it has one; otherwise a lock is emitted whose
flag lives in transient storage (solc >= 0.8.25, Cancun by default) or in an ERC-7201 slot, never
in a new state variable, so an upgradeable layout is untouched. A public function that is also
called internally by a locked function is split into a locked external face and an internal body,
so the contract's own nested calls do not trip the lock.
"""

from __future__ import annotations

from collections.abc import Iterator

from bulwark.domain import VulnClass
from bulwark.domain.patch import Edit, Localisation
from bulwark.patch.context import FixContext, erc7201_slot
from bulwark.patch.fixes.base import Candidate, FixTemplate
from bulwark.patch.locate.checks.reentrancy import reentrancy_calls
from bulwark.patch.locate.facts import entry_functions, has_lock
from bulwark.patch.solast import Contract, Function, Node, Program, is_msg_sender, src, type_string, walk

LOCK_NAMESPACE = "bulwark.patch.ReentrancyLock"


def lock_modifier(ctx: FixContext, contract: Contract) -> tuple[str, str | None]:
    """(modifier name, definition to emit or None when the contract already has one)."""
    for name, mod in contract.all_modifiers.items():
        params = (mod.node.get("parameters") or {}).get("parameters") or []
        if not params and name.lower() in (
            "nonreentrant",
            "noreentrancy",
            "noreentrant",
            "lock",
            "nonreentrantlock",
        ):
            return name, None
    slot = hex(erc7201_slot(LOCK_NAMESPACE))
    program = ctx.program
    evm = str(program.result.settings.get("evmVersion") or "")
    transient = program.at_least(0, 8, 25) and evm in ("", "cancun", "prague", "osaka")
    load, store = ("tload", "tstore") if transient else ("sload", "sstore")
    where = "transient storage" if transient else f'ERC-7201 slot of "{LOCK_NAMESPACE}"'
    revert = 'require(bulwarkEntered == 0, "ReentrancyGuard: reentrant call");'
    if program.at_least(0, 5):
        # OpenZeppelin 5's ReentrancyGuardReentrantCall(), raised in assembly: no revert string to
        # ABI-encode, so the lock is a few dozen bytes of code
        enter = f"""function _bulwarkEnter() private {{
    assembly {{
        if {load}({slot}) {{
            mstore(0, 0x3ee5aeb5) // ReentrancyGuardReentrantCall()
            revert(0x1c, 0x04)
        }}
        {store}({slot}, 1)
    }}
}}"""
    else:
        enter = f"""function _bulwarkEnter() private {{
    uint256 bulwarkEntered;
    assembly {{ bulwarkEntered := {load}({slot}) }}
    {revert}
    assembly {{ {store}({slot}, 1) }}
}}"""
    # a modifier's body is copied into every function it guards: it only calls two private functions,
    # so each locked function grows by two internal calls, not by the whole check (OpenZeppelin's
    # _nonReentrantBefore/_nonReentrantAfter, for the same reason)
    body = f"""
/// @dev Re-entrancy lock added by Bulwark; the flag lives in {where},
///      so the storage layout is unchanged.
modifier bulwarkNonReentrant() {{
    _bulwarkEnter();
    _;
    _bulwarkExit();
}}

{enter}

function _bulwarkExit() private {{
    assembly {{ {store}({slot}, 0) }}
}}
"""
    return "bulwarkNonReentrant", body


class ReentrancyLockFix(FixTemplate):
    NAME = "reentrancy-lock"
    CLASSES = frozenset({VulnClass.REENTRANCY})
    DESCRIPTION = "locks the re-entered function and every entry point that shares its state"

    def propose(self, ctx: FixContext, finding: Localisation) -> Iterator[Candidate]:
        program = ctx.program
        contract = program.contract(finding.contract)
        if contract is None or finding.function is None:
            return
        fn = contract.function(finding.function)
        if fn is None or fn.body is None:
            return
        shared: set[int] = set(program.reads(fn)) | program.writes(fn)
        for _call, written in reentrancy_calls(program, fn):
            shared |= written
        targets: list[Function] = [fn]
        for g in entry_functions(contract):
            if g.id == fn.id or not (program.writes(g) & shared):
                continue
            if program.checks_sender(g, _self_granted(program, contract)):
                continue  # privileged functions are not the attacker's way back in (a sign-up is none)
            targets.append(g)
        targets = [t for t in targets if not has_lock(program, t) and ctx.editable(t.node)]
        if not targets:
            return
        name, definition = lock_modifier(ctx, contract)
        edits: list[Edit] = []
        if definition is not None:
            edits.append(ctx.contract_end(contract, definition))
        locked = {t.id for t in targets} | {g.id for g in entry_functions(contract) if has_lock(program, g)}
        split_done: list[str] = []
        for t in targets:
            nested = _internal_callers(ctx, contract, t, locked)
            if nested:
                split = _split(ctx, contract, t, name, nested)
                if split is None:
                    return  # cannot lock without blocking the contract's own nested call
                edits.extend(split)
                split_done.append(t.name)
            else:
                edits.append(ctx.add_modifier(t, name, first=True))
        names = ", ".join(t.name for t in targets)
        how = "its existing" if definition is None else "a new"
        note = (
            f" {', '.join(split_done)} is also called from inside the contract, so its body moved to an "
            "internal function the contract calls directly and only the external entry takes the lock."
            if split_done
            else ""
        )
        yield self.candidate(
            finding,
            edits,
            f"{fn.name} in {contract.name} makes an external call before it has finished updating its state, "
            f"so the callee can re-enter it or another function that uses the same state. The fix puts "
            f"{how} `{name}` lock on {names}: every entry point sharing that state, so cross-function "
            f"re-entry is closed too.{note} No storage variable is added.",
        )


def _self_granted(program: Program, contract: Contract) -> frozenset[int]:
    """Boolean mappings that an entry point anyone may call sets for its own caller (a sign-up:
    ``registered[msg.sender] = true``): a gate on such a flag lets in whoever signs up first."""
    key = ("self-granted", contract.id)
    if key not in program.memo:
        out: set[int] = set()
        for g in entry_functions(contract):
            if program.checks_sender(g):
                continue
            for part in program.closure(g):
                for n in program.nodes(part.body, "Assignment"):
                    lhs = n.get("leftHandSide") or {}
                    rhs = n.get("rightHandSide") or {}
                    if (
                        lhs.get("nodeType") != "IndexAccess"
                        or type_string(lhs) != "bool"
                        or (rhs.get("nodeType") == "Literal" and rhs.get("value") == "false")
                        or not any(is_msg_sender(x) for x in walk(lhs.get("indexExpression") or {}))
                    ):
                        continue
                    ref = (lhs.get("baseExpression") or {}).get("referencedDeclaration")
                    if ref is not None and (program.nodes_by_id.get(int(ref)) or {}).get("stateVariable"):
                        out.add(int(ref))
        program.memo[key] = frozenset(out)
    return frozenset(program.memo[key])


def _internal_callers(ctx: FixContext, contract: Contract, target: Function, locked: set[int]) -> list[Node]:
    """Internal call sites of ``target`` inside functions that hold the lock."""
    sites: list[Node] = []
    for g in contract.all_functions:
        if g.id == target.id or g.body is None:
            continue
        closure_ids = {c.id for c in ctx.program.closure(g)}
        if g.id not in locked and not (closure_ids & locked):
            continue
        for call in (n for n in walk(g.body) if n.get("nodeType") == "FunctionCall"):
            callee = ctx.program.internal_target(contract, call)
            if callee is not None and callee.id == target.id:
                sites.append(call)
    return sites


def _split(
    ctx: FixContext,
    contract: Contract,
    fn: Function,
    lock: str,
    sites: list[Node],
    *,
    first: str | None = None,
) -> list[Edit] | None:
    """Move ``fn``'s body (and modifiers) to an internal function; the public face keeps the lock
    (a modifier; "" for none) and ``first``, a statement it runs before forwarding."""
    params = (fn.node.get("parameters") or {}).get("parameters") or []
    if any(not p.get("name") for p in params) or fn.visibility != "public" or fn.body is None:
        return None
    if any(not ctx.editable(s) for s in sites):
        return None
    inner = f"_bulwark_{fn.name}"
    st = ctx.text(fn.node)
    rets = fn.node.get("returnParameters") or {}
    returns = f" returns {ctx.node_text(rets)}" if rets.get("parameters") else ""
    mods = " ".join(ctx.node_text(m) for m in fn.modifiers)
    mutability = "" if fn.mutability in ("nonpayable", "payable") else f" {fn.mutability}"
    header = f"function {inner}{ctx.node_text(fn.node['parameters'])} internal{mutability}"
    header += f" {mods}" if mods else ""
    body_text = ctx.node_text(fn.body)
    indent = st.indent_at(src(fn.node).start)
    new_fn = f"\n\n{indent}{header}{returns} {body_text}"
    args = ", ".join(str(p["name"]) for p in params)
    call = f"{inner}({args})"
    unit = st.unit()
    forward = f"return {call};" if returns else f"{call};"
    edits = [Edit(st.path, src(fn.node).end, src(fn.node).end, new_fn)]
    lead = f"{indent}{unit}{first}\n" if first else ""
    edits.append(ctx.replace(fn.body, f"{{\n{lead}{indent}{unit}{forward}\n{indent}}}"))
    for m in fn.modifiers:
        s = src(m)
        start = s.start - 1 if st.slice(s.start - 1, s.start) == " " else s.start
        edits.append(Edit(st.path, start, s.end, ""))
    last = src(fn.modifiers[-1]).end if fn.modifiers else None
    if lock and last is not None:
        edits.append(Edit(st.path, last, last, f" {lock}"))
    elif lock:
        edits.append(ctx.add_modifier(fn, lock))
    for site in sites:
        edits.append(ctx.replace(site["expression"], inner))
    return edits
