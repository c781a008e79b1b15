"""Logic flaws a function's siblings give away, each fixed by a check the contract already implies:

* ``stale-cached-entry``: two entries of one mapping are read into locals, one is written back, then
  the other is written from its stale local: when both keys are the same entry (a transfer to
  oneself) the first write is lost and value appears from nothing;
* ``sibling-payout-flag``: functions that pay out of a record mark it done (``o.released = true``)
  and check each other's marks, but one of them does not check another's mark, so both pay;
* ``inverse-path-condition``: two payout functions share a guard (the same deadline), one requires
  an outcome over state (``raised >= goal``) and the other never looks at it, so both pay;
* ``unconsumed-allowance``: a function debits the balance of an account its caller names
  (``transferFrom``), the contract keeps what each account lets each caller spend
  (``allowance[msg.sender][spender] = v`` in ``approve``), and the function never looks at it;
* ``branch-skips-debit``: a function checks a balance, then pays out on each arm of an ``if``, but
  only one arm lowers the balance it checked (a penalised early exit beside the matured one), so
  the other arm pays again and again out of the same balance.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from bulwark.domain import VulnClass
from bulwark.domain.patch import Localisation
from bulwark.patch.locate.facts import is_value_call, own_entries, pays_out
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
    src,
    type_string,
    walk,
)

NEGATE = {">=": "<", ">": "<=", "<": ">=", "<=": ">", "==": "!=", "!=": "=="}


def _text(program: Program, node: Node) -> str:
    st = program.text_of(node)
    return st.of(node) if st is not None else ""


def payouts(program: Program, contract: Contract) -> list[Function]:
    """The contract's editable entry points that send ether; once per contract."""
    key = ("payouts", contract.id)
    if key not in program.memo:
        program.memo[key] = [f for f in own_entries(program, contract) if f.body is not None and pays_out(f)]
    return list(program.memo[key])


def conditions(program: Program, fn: Function) -> list[tuple[Node, Node]]:
    """(statement, condition) for every ``require(c)`` in ``fn``, ``&&`` split into its parts."""
    key = ("require-conditions", fn.id)
    if key not in program.memo:
        program.memo[key] = _conditions(program, fn)
    return list(program.memo[key])


def _conditions(program: Program, fn: Function) -> list[tuple[Node, Node]]:
    out: list[tuple[Node, Node]] = []
    for stmt in program.nodes(fn.body, "ExpressionStatement"):
        call = stmt.get("expression") or {}
        if call.get("nodeType") != "FunctionCall" or callee_name(call) != "require":
            continue
        todo = list((call.get("arguments") or [])[:1])
        while todo:
            c = todo.pop(0)
            if c.get("nodeType") == "BinaryOperation" and c.get("operator") == "&&":
                todo[:0] = [c.get("leftExpression") or {}, c.get("rightExpression") or {}]
            else:
                out.append((stmt, c))
    return out


# -- stale cached entry -------------------------------------------------------------------------------


def _index_path(expr: Node) -> tuple[int, str] | None:
    if expr.get("nodeType") != "IndexAccess":
        return None
    root = base_variable(expr) or {}
    ref = root.get("referencedDeclaration")
    return (int(ref), "") if ref is not None else None


def stale_cached_writes(program: Program, fn: Function) -> list[tuple[Node, Node, Node]]:
    """(assignment, stale local identifier, fresh read expression) in ``fn``."""
    if fn.body is None:
        return []
    cached: dict[int, tuple[Node, str, int]] = {}  # local id -> (entry expression, its text, mapping)
    for st in program.nodes(fn.body, "VariableDeclarationStatement"):
        decls = [d for d in st.get("declarations") or [] if d]
        init = st.get("initialValue") or {}
        path = _index_path(init)
        root = program.nodes_by_id.get(path[0]) if path else None
        if len(decls) == 1 and path and root and root.get("stateVariable"):
            cached[int(decls[0]["id"])] = (init, _text(program, init), path[0])
    if len(cached) < 2:
        return []
    out: list[tuple[Node, Node, Node]] = []
    writes: list[tuple[int, str, int]] = []  # (mapping, key text, offset) of entries written so far
    for n in program.nodes(fn.body, "Assignment"):
        lhs = n.get("leftHandSide") or {}
        path = _index_path(lhs)
        if path is None:
            continue
        text = _text(program, lhs)
        for ident in program.nodes(n.get("rightHandSide") or {}, "Identifier"):
            entry = cached.get(int(ident.get("referencedDeclaration") or -1))
            if entry is None or entry[1] != text:
                continue
            # the same mapping was written under another key since this entry was cached
            if any(m == entry[2] and k != text and at > src(entry[0]).start for m, k, at in writes):
                out.append((n, ident, entry[0]))
        writes.append((path[0], text, src(n).start))
    return out


# -- payout flags of sibling functions ---------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class FlagWrite:
    """A record marked done: ``o.released = true`` (a struct field) or ``claimed[id] = true`` (a bool
    mapping). Records of one kind share ``kind`` (the struct type, or the mapping's key type)."""

    statement: Node
    pointer: str  # the record as the function names it (``o``, ``orders[id]``; the key ``id``)
    kind: str
    field: str  # the field, or the mapping's name
    mapping: bool = False

    def mark(self, field: str) -> str:
        """How this function reads ``field`` of the same record."""
        return f"{field}[{self.pointer}]" if self.mapping else f"{self.pointer}.{field}"


def _bool_mapping(program: Program, node: Node) -> tuple[str, str] | None:
    """(name, key type) when ``node`` is ``m[k]`` on a state ``mapping(K => bool)``."""
    base = node.get("baseExpression") or {}
    decl = program.nodes_by_id.get(int(base.get("referencedDeclaration") or -1)) or {}
    if node.get("nodeType") != "IndexAccess" or base.get("nodeType") != "Identifier":
        return None
    if not decl.get("stateVariable") or type_string(node) != "bool":
        return None
    return str(base.get("name")), type_string(node.get("indexExpression") or {}).split(" ")[0]


def _flag_writes(program: Program, fn: Function) -> list[FlagWrite]:
    out: list[FlagWrite] = []
    for stmt in program.nodes(fn.body, "ExpressionStatement"):
        expr = stmt.get("expression") or {}
        lhs = expr.get("leftHandSide") or {}
        rhs = expr.get("rightHandSide") or {}
        is_true = rhs.get("nodeType") == "Literal" and rhs.get("value") == "true"
        if expr.get("nodeType") != "Assignment" or type_string(lhs) != "bool" or not is_true:
            continue
        if lhs.get("nodeType") == "MemberAccess":
            base = lhs.get("expression") or {}
            struct = type_string(base).split(" storage")[0]
            if struct.startswith("struct "):
                out.append(FlagWrite(stmt, _text(program, base), struct, str(lhs.get("memberName"))))
        elif (found := _bool_mapping(program, lhs)) is not None:
            key = _text(program, lhs.get("indexExpression") or {})
            out.append(FlagWrite(stmt, key, f"mapping({found[1]})", found[0], mapping=True))
    return out


def _fields_read(program: Program, fn: Function, kind: str) -> set[str]:
    out: set[str] = set()
    for _, c in conditions(program, fn):
        for m in walk(c):
            if m.get("nodeType") == "MemberAccess":
                if type_string(m.get("expression") or {}).split(" storage")[0] == kind:
                    out.add(str(m.get("memberName")))
            elif (found := _bool_mapping(program, m)) is not None and f"mapping({found[1]})" == kind:
                out.add(found[0])
    return out


def missing_sibling_flags(program: Program, fn: Function) -> list[tuple[FlagWrite, str]]:
    """(``fn``'s own flag write, a sibling payout's flag ``fn`` never checks)."""
    if not pays_out(fn):
        return []
    own = _flag_writes(program, fn)
    if not own:
        return []
    done: dict[str, set[str]] = {}
    for other in payouts(program, fn.contract):
        for w in _flag_writes(program, other):
            done.setdefault(w.kind, set()).add(w.field)
    out: list[tuple[FlagWrite, str]] = []
    for w in own[:1]:
        read = _fields_read(program, fn, w.kind)
        if w.field not in read:
            continue  # it does not even check its own mark: not this shape
        out.extend((w, f) for f in sorted(done.get(w.kind, set()) - read))
    return out


# -- a condition on the inverse path ----------------------------------------------------------------


def _state_only(program: Program, expr: Node) -> set[int] | None:
    """State variables ``expr`` reads, or None when it reads anything else (locals, the caller, time)."""
    out: set[int] = set()
    for n in walk(expr):
        base = n.get("expression") or {}
        if n.get("nodeType") == "MemberAccess" and base.get("name") in ("block", "msg", "tx"):
            return None
        if n.get("nodeType") == "FunctionCall":
            return None
        if n.get("nodeType") == "Identifier":
            decl = program.nodes_by_id.get(int(n.get("referencedDeclaration") or -1)) or {}
            if not decl.get("stateVariable"):
                return None
            out.add(int(n["referencedDeclaration"]))
    return out


def inverse_conditions(program: Program, fn: Function) -> list[tuple[Node, Node, Function]]:
    """(guard statement in ``fn``, a sibling's outcome condition, the sibling) where ``fn`` and the
    sibling both pay out behind the same guard, and the sibling also requires an ordering between
    state variables that ``fn`` never reads."""
    if fn.body is None or not pays_out(fn):
        return []
    mine = {_text(program, c): stmt for stmt, c in conditions(program, fn)}
    reads = program.reads(fn)
    out: list[tuple[Node, Node, Function]] = []
    for other in payouts(program, fn.contract):
        if other.id == fn.id:
            continue
        theirs = conditions(program, other)
        shared = [mine[_text(program, c)] for _, c in theirs if _text(program, c) in mine]
        if not shared:
            continue
        for _, c in theirs:
            if c.get("nodeType") != "BinaryOperation" or c.get("operator") not in NEGATE:
                continue
            if any(is_msg_sender(x) for x in walk(c)):
                continue
            used = _state_only(program, c)
            if used and len(used) >= 2 and not used & reads:
                out.append((shared[-1], c, other))
    return out


# -- a paying branch that skips its sibling branch's debit ---------------------------------------------


def _pays(node: Node) -> bool:
    """Does ``node`` send ether (transfer, send, or a call with value on an address)?"""
    for call in walk(node):
        if call.get("nodeType") != "FunctionCall":
            continue
        target = call_target(call) or {}
        if not type_string(target.get("expression") or {}).startswith("address"):
            continue
        name = callee_name(call)
        if name in ("transfer", "send") or (name == "call" and is_value_call(call)):
            return True
    return False


def _reverts(node: Node) -> bool:
    return any(
        n.get("nodeType") == "Throw" or (n.get("nodeType") == "FunctionCall" and callee_name(n) == "revert")
        for n in walk(node)
    )


def _guarded_state(program: Program, fn: Function) -> set[int]:
    """State variables read by ``fn``'s guards: its ``require``s and its ``if (..) throw/revert``."""
    conds = [c for _, c in conditions(program, fn)]
    conds += [
        n.get("condition") or {}
        for n in program.nodes(fn.body, "IfStatement")
        if not n.get("falseBody") and _reverts(n.get("trueBody") or {})
    ]
    out: set[int] = set()
    for c in conds:
        for x in walk(c):
            ref = x.get("referencedDeclaration")
            if ref is not None and (program.nodes_by_id.get(int(ref)) or {}).get("stateVariable"):
                out.add(int(ref))
    return out


def _arms(node: Node) -> list[Node]:
    """The blocks of an ``if / else if / else`` chain, in order."""
    out: list[Node] = []
    while node.get("nodeType") == "IfStatement":
        out.append(node.get("trueBody") or {})
        node = node.get("falseBody") or {}
    if node:
        out.append(node)
    return out


def _debit(program: Program, stmt: Node, guarded: set[int]) -> str | None:
    """The entry ``stmt`` lowers (``bal[k] -= x``, ``bal[k] = bal[k] - x``, ``bal[k] = 0``) when its
    variable is one the guards read, as written; else None."""
    expr = stmt.get("expression") or {}
    if stmt.get("nodeType") != "ExpressionStatement" or expr.get("nodeType") != "Assignment":
        return None
    lhs = expr.get("leftHandSide") or {}
    rhs = expr.get("rightHandSide") or {}
    root = (base_variable(lhs) or {}).get("referencedDeclaration")
    if root is None or int(root) not in guarded or not type_string(lhs).startswith("uint"):
        return None
    text = _text(program, lhs)
    lowered = expr.get("operator") == "-=" or (
        expr.get("operator") == "="
        and (
            (rhs.get("nodeType") == "Literal" and rhs.get("value") == "0")
            or (
                rhs.get("nodeType") == "BinaryOperation"
                and rhs.get("operator") == "-"
                and _text(program, rhs.get("leftExpression") or {}) == text
            )
        )
    )
    return text if lowered else None


def skipped_debits(program: Program, fn: Function) -> list[tuple[Node, Node]]:
    """(debit statement of one arm, the payout statement of a sibling arm that lacks it): both arms of
    an ``if`` in ``fn`` pay out, the guards read the balance, one arm lowers it and the other never
    writes it. The debit only names what is in scope in both arms."""
    if fn.body is None or not pays_out(fn):
        return []
    guarded = _guarded_state(program, fn)
    if not guarded:
        return []
    out: list[tuple[Node, Node]] = []
    for branch in program.nodes(fn.body, "IfStatement"):
        arms = _arms(branch)
        if len(arms) < 2 or any(a.get("nodeType") != "Block" for a in arms):
            continue
        for arm in arms:
            debits = [
                (st, text)
                for st in arm.get("statements") or []
                if (text := _debit(program, st, guarded)) is not None and _pays(arm)
            ]
            for st, text in debits:
                inner = src(arm)
                local = any(
                    inner.start <= src(decl).start < inner.end
                    for x in walk(st)
                    if (decl := program.nodes_by_id.get(int(x.get("referencedDeclaration") or -1)))
                )
                if local:
                    continue  # it uses a local of its own arm: it cannot be copied as written
                for other in arms:
                    if other is arm:
                        continue
                    writes = {_text(program, dict(t)) for n in walk(other) for t in assigned_targets(n)}
                    if text in writes:
                        continue
                    pay = next((x for x in other.get("statements") or [] if _pays(x)), None)
                    if pay is not None:
                        out.append((st, pay))
    return out


# -- a delegated debit that never consults the delegation ------------------------------------------------


def _allowances(program: Program, contract: Contract) -> list[int]:
    """State ``mapping(address => mapping(address => uint))`` written at ``[msg.sender][..]``."""
    key = ("allowances", contract.id)
    if key not in program.memo:
        out: list[int] = []
        for g in contract.all_functions:
            for n in program.nodes(g.body, "Assignment"):
                lhs = n.get("leftHandSide") or {}
                inner = lhs.get("baseExpression") or {}
                root = int((base_variable(lhs) or {}).get("referencedDeclaration") or -1)
                decl = program.nodes_by_id.get(root)
                if (
                    decl is not None
                    and decl.get("stateVariable")
                    and lhs.get("nodeType") == "IndexAccess"
                    and inner.get("nodeType") == "IndexAccess"
                    and is_msg_sender(inner.get("indexExpression") or {})
                    and type_string(lhs).startswith("uint")
                    and root not in out
                ):
                    out.append(root)
        program.memo[key] = out
    return list(program.memo[key])


def unconsumed_allowance(program: Program, fn: Function) -> tuple[Node, Node, Node, int] | None:
    """(debit statement, the debited key, the amount, the allowance mapping) when ``fn`` lowers a
    balance at a key that is one of its parameters, never names its caller, and the contract keeps
    an allowance mapping ``fn`` never reads."""
    if fn.body is None or program.checks_sender(fn) or any(is_msg_sender(n) for n in program.nodes(fn.body)):
        return None
    allowances = _allowances(program, fn.contract)
    if not allowances or set(allowances) & program.reads(fn):
        return None
    params = {int(p["id"]) for p in (fn.node.get("parameters") or {}).get("parameters") or []}
    for stmt in program.nodes(fn.body, "ExpressionStatement"):
        expr = stmt.get("expression") or {}
        lhs = expr.get("leftHandSide") or {}
        index = lhs.get("indexExpression") or {}
        if expr.get("nodeType") != "Assignment" or lhs.get("nodeType") != "IndexAccess":
            continue
        if index.get("nodeType") != "Identifier" or index.get("referencedDeclaration") not in params:
            continue
        rhs = expr.get("rightHandSide") or {}
        if expr.get("operator") == "-=":
            amount = rhs
        elif (
            expr.get("operator") == "="
            and rhs.get("nodeType") == "BinaryOperation"
            and rhs.get("operator") == "-"
            and _text(program, rhs.get("leftExpression") or {}) == _text(program, lhs)
        ):
            amount = rhs.get("rightExpression") or {}
        else:
            continue
        if (lhs.get("baseExpression") or {}).get("nodeType") == "Identifier" and _state_var(program, lhs):
            return stmt, index, amount, allowances[0]
    return None


def _state_var(program: Program, node: Node) -> bool:
    ref = (base_variable(node) or {}).get("referencedDeclaration")
    return ref is not None and bool((program.nodes_by_id.get(int(ref)) or {}).get("stateVariable"))


def check_logic_siblings(program: Program, contract: Contract) -> Iterator[Localisation]:
    for fn in own_entries(program, contract):
        if fn.kind != "function":
            continue
        for assignment, _, _ in stale_cached_writes(program, fn)[:1]:
            yield localisation(
                program,
                "stale-cached-entry",
                VulnClass.INVARIANT_BREAK,
                contract,
                fn,
                assignment,
                0.6,
                f"{fn.name} writes a mapping entry from a copy read before another entry of the same "
                "mapping was written: when both are the same entry the first write is lost",
            )
        for write, field in missing_sibling_flags(program, fn)[:1]:
            yield localisation(
                program,
                "sibling-payout-flag",
                VulnClass.INVARIANT_BREAK,
                contract,
                fn,
                write.statement,
                0.55,
                f"{fn.name} pays out of a record without checking its {field} mark, which another "
                "payout sets and checks: both can pay for the same record",
            )
        found = unconsumed_allowance(program, fn)
        if found is not None:
            yield localisation(
                program,
                "unconsumed-allowance",
                VulnClass.INVARIANT_BREAK,
                contract,
                fn,
                found[0],
                # anyone moves anyone's balance: as sure as a missing owner check
                0.8,
                f"{fn.name} debits the balance of an account its caller names without checking or using "
                f"the allowance it gave ({program.name_of(found[3])}): anyone spends anyone's funds",
            )
        for debit, pay in skipped_debits(program, fn)[:1]:
            yield localisation(
                program,
                "branch-skips-debit",
                VulnClass.INVARIANT_BREAK,
                contract,
                fn,
                pay,
                # a payout that never lowers the balance its own guard checks repeats at will, as sure
                # as a reentrancy finding: clear of the checked-math and clock findings the same
                # old-compiler function carries, so their fixes are not bundled in (BUNDLE_TIE)
                0.75,
                f"{fn.name} checks a balance and pays on each branch, but only one branch lowers it "
                f"({_text(program, debit)}): the other pays out of the same balance again and again",
            )
        for _, cond, other in inverse_conditions(program, fn)[:1]:
            yield localisation(
                program,
                "inverse-path-condition",
                VulnClass.INVARIANT_BREAK,
                contract,
                fn,
                None,
                # strong enough to join unchecked arithmetic's fix in old code (bundled within 0.05)
                0.58,
                f"{fn.name} and {other.name} both pay out behind the same guard, but only {other.name} "
                f"requires {_text(program, cond)}: both paths can pay",
            )
