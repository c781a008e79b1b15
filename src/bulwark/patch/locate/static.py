"""Our own checks over the AST, for flaws Slither does not report (or reports too broadly).

Each check yields ``Localisation`` objects with a score in [0, 1]: how sure we are that this is
the flaw an attacker would use. Scores are comparable across checks; the trace can raise them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from bulwark.domain import VulnClass
from bulwark.domain.patch import Localisation
from bulwark.patch.solast import (
    Contract,
    Function,
    Node,
    Program,
    base_variable,
    call_target,
    callee_name,
    is_external_call,
    is_msg_sender,
    is_tx_origin,
    src,
    type_string,
    walk,
)

LOCK_WORDS = ("nonreentrant", "noreentran", "reentrancyguard", "lock", "mutex", "nonreentrantview")
INIT_MODIFIERS = frozenset({"initializer", "reinitializer", "onlyInitializing"})
SPOT_CALLS = frozenset(
    {
        "getReserves",
        "spotPrice",
        "getSpotPrice",
        "slot0",
        "getAmountOut",
        "getAmountsOut",
        "get_dy",
        "getRate",
    }
)
TWAP_WORDS = ("twap", "consult", "observe", "timeweighted", "getaverage", "averageprice")
_SIG_CALLS = frozenset({"ecrecover", "recover", "tryRecover", "isValidSignatureNow", "isValidSignature"})


def has_lock(fn: Function) -> bool:
    return any(any(w in n.lower() for w in LOCK_WORDS) for n in fn.modifier_names)


def _loc(
    program: Program,
    detector: str,
    cls: VulnClass,
    contract: Contract,
    fn: Function | None,
    node: Node | None,
    score: float,
    *evidence: str,
) -> Localisation:
    anchor = node if node is not None else (fn.node if fn is not None else contract.node)
    st = program.text_of(anchor)
    s = src(anchor)
    lines = st.lines(s.start, s.end) if st is not None else ()
    if node is not None and fn is not None and len(lines) > 8:
        lines = lines[:1]
    return Localisation(
        detector=detector,
        vuln_class=cls,
        contract=contract.name,
        function=(fn.name or fn.kind) if fn is not None else None,
        lines=lines,
        score=round(min(score, 1.0), 3),
        evidence=tuple(evidence),
        path=program.path_of(anchor),
        start=s.start,
        length=s.length,
    )


Check = Callable[[Program, Contract], Iterator[Localisation]]


def entry_functions(contract: Contract) -> list[Function]:
    return [f for f in contract.all_functions if f.is_entry and f.mutates and f.body is not None]


def own_entries(program: Program, contract: Contract) -> list[Function]:
    """Entry points whose code is in an editable file (we can only patch those)."""
    return [f for f in entry_functions(contract) if program.text_of(f.node) is not None]


def _is_initializer(fn: Function) -> bool:
    return bool(INIT_MODIFIERS & set(fn.modifier_names))


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


def check_access_control(program: Program, contract: Contract) -> Iterator[Localisation]:
    entries = entry_functions(contract)
    protected = [f for f in entries if program.checks_sender(f)]
    guard_vars = _guard_variables(program, contract)
    # state variable -> the entry points writing it, built once (not a scan of every entry per function)
    writers: dict[int, list[Function]] = {}
    for g in entries:
        for v in program.writes(g):
            writers.setdefault(v, []).append(g)

    def _writers_of(variables: set[int]) -> list[Function]:
        found = {g.id: g for v in variables for g in writers.get(v, ())}
        return [g for g in entries if g.id in found]  # entry order, as before

    for fn in own_entries(program, contract):
        if fn.kind != "function" or program.checks_sender(fn) or _is_initializer(fn):
            continue
        if fn.name == "initialize" or fn.name.startswith("init") or fn.name.startswith("__"):
            continue  # the initializer check handles these
        writes = program.writes(fn)
        if not writes:
            continue
        takeover = writes & guard_vars
        if takeover and fn.mutability != "payable":  # paying to become king/bidder is the game
            names = ", ".join(sorted(program.name_of(v) for v in takeover))
            yield _loc(
                program,
                "unprotected-privileged-write",
                VulnClass.ACCESS_CONTROL,
                contract,
                fn,
                None,
                0.9,
                f"{fn.name} writes {names}, which gate privileged functions, with no caller check",
            )
            continue
        callers = [g for g in protected if g.id != fn.id and program.reaches(g, fn.id)]
        if callers:
            yield _loc(
                program,
                "unprotected-privileged-write",
                VulnClass.ACCESS_CONTROL,
                contract,
                fn,
                None,
                0.85,
                f"{fn.name} is public with no caller check, yet {callers[0].name} reaches it "
                f"only for privileged callers",
            )
            continue
        if _sender_keyed(program, fn):
            continue
        if protected and _privileged_name(fn.name):
            # set*/mint*/... with no caller check in a contract that checks callers elsewhere
            names = ", ".join(sorted(program.name_of(v) for v in writes))
            yield _loc(
                program,
                "unprotected-privileged-write",
                VulnClass.ACCESS_CONTROL,
                contract,
                fn,
                None,
                0.75,
                f"{fn.name} writes {names} with no caller check, unlike the contract's other privileged "
                "functions",
            )
            continue
        if fn.mutability == "payable" or any(is_msg_sender(n) for n in fn.program.nodes(fn.body)):
            continue  # takes the caller's money or acts for the caller: a user action
        others = [g for g in _writers_of(writes) if g.id != fn.id]
        if others and all(g in protected for g in others):
            shared = writes & set().union(*(program.writes(g) for g in others))
            names = ", ".join(sorted(program.name_of(v) for v in shared))
            yield _loc(
                program,
                "unprotected-privileged-write",
                VulnClass.ACCESS_CONTROL,
                contract,
                fn,
                None,
                0.7,
                f"{names} is otherwise written only by privileged functions",
            )


_PRIVILEGED_PREFIXES = ("set", "mint", "update", "change", "configure", "pause", "unpause", "upgrade")


def _privileged_name(name: str) -> bool:
    """Names of functions that are privileged in nearly every contract (setters, minting)."""
    lowered = name.lower()
    return lowered.startswith(_PRIVILEGED_PREFIXES) and not lowered.startswith(("settle", "setup"))


def _guard_variables(program: Program, contract: Contract) -> set[int]:
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


def check_initializers(program: Program, contract: Contract) -> Iterator[Localisation]:
    for fn in own_entries(program, contract):
        if fn.kind != "function":
            continue
        lowered = fn.name.lower()
        if _constructor_like(fn.name, contract.name) and not program.at_least(0, 5):
            yield _loc(
                program,
                "misnamed-constructor",
                VulnClass.ACCESS_CONTROL,
                contract,
                fn,
                None,
                0.95,
                f"{fn.name} looks like a constructor of {contract.name} but is a public function",
            )
            continue
        if not (lowered.startswith("init") or lowered in ("setup", "configure")):
            continue
        if _is_initializer(fn) or program.checks_sender(fn):
            continue
        writes = program.writes(fn)
        reads = program.reads(fn)
        # a one-shot flag: a bool read (checked) and written by the function
        flags = {v for v in writes & reads if type_string(program.nodes_by_id.get(v) or {}) == "bool"}
        if not writes:
            continue
        if flags:
            if not contract.is_upgradeable:
                yield _loc(
                    program,
                    "frontrunnable-setup",
                    VulnClass.FRONT_RUNNING,
                    contract,
                    fn,
                    None,
                    0.6,
                    f"{fn.name} runs once, for whoever calls it first: a mempool watcher can run it before "
                    "the deployer does",
                )
            continue
        yield _loc(
            program,
            "unprotected-initializer",
            VulnClass.ACCESS_CONTROL,
            contract,
            fn,
            None,
            0.85,
            f"{fn.name} can be called by anyone, any number of times",
        )


def _constructor_like(name: str, contract: str) -> bool:
    """A public function named like its contract (a case slip or a typo): meant as a constructor."""
    import difflib

    a, b = name.lower(), contract.lower()
    if a == b or (len(b) >= 4 and difflib.SequenceMatcher(None, a, b).ratio() >= 0.8):
        return True
    # a renamed contract whose old constructor kept the old name (DynamicPayoutQueue / PayoutQueue)
    return min(len(a), len(b)) >= 6 and (a.endswith(b) or b.endswith(a) or a.startswith(b) or b.startswith(a))


def check_upgrade_auth(program: Program, contract: Contract) -> Iterator[Localisation]:
    fn = next((f for f in contract.all_functions if f.name == "_authorizeUpgrade"), None)
    if fn is None or program.text_of(fn.node) is None or fn.body is None:
        return
    if program.checks_sender(fn) or fn.modifiers:
        return
    yield _loc(
        program,
        "unprotected-upgrade",
        VulnClass.ACCESS_CONTROL,
        contract,
        fn,
        None,
        0.95,
        "_authorizeUpgrade lets anyone upgrade the implementation",
    )


def check_selfdestruct_delegatecall(program: Program, contract: Contract) -> Iterator[Localisation]:
    for fn in own_entries(program, contract):
        if program.checks_sender(fn):
            continue
        params = {int(p["id"]) for p in (fn.node.get("parameters") or {}).get("parameters") or []}
        for part in program.closure(fn):
            for call in (n for n in part.program.nodes(part.body) if n.get("nodeType") == "FunctionCall"):
                name = callee_name(call)
                if (
                    name in ("selfdestruct", "suicide")
                    and (call.get("expression") or {}).get("nodeType") == "Identifier"
                ):
                    yield _loc(
                        program,
                        "unprotected-selfdestruct",
                        VulnClass.UNPROTECTED_SELFDESTRUCT,
                        contract,
                        fn,
                        call,
                        0.9,
                        f"anyone can make {fn.name} destroy the contract",
                    )
                target = call_target(call)
                if name == "delegatecall" and target is not None:
                    base = base_variable(target.get("expression") or {})
                    if base is not None and base.get("referencedDeclaration") in params:
                        yield _loc(
                            program,
                            "controlled-delegatecall",
                            VulnClass.UNPROTECTED_DELEGATECALL,
                            contract,
                            fn,
                            call,
                            0.85,
                            f"{fn.name} delegatecalls a caller-chosen address",
                        )


def _origin_uses(body: Any) -> list[Node]:
    """``tx.origin`` nodes used for authorisation or as the acting account.

    ``tx.origin == msg.sender`` (an "only EOAs" check) is left alone: it authorises nobody.
    """
    every = list(walk(body))
    origins = [n for n in every if is_tx_origin(n)]
    if not origins:  # the common case: one pass
        return []
    skip: set[int] = set()
    for n in every:
        if n.get("nodeType") == "BinaryOperation" and n.get("operator") in ("==", "!="):
            sides = [n.get("leftExpression") or {}, n.get("rightExpression") or {}]
            if any(is_msg_sender(s) for s in sides):
                skip.update(id(x) for s in sides for x in walk(s))
    return [n for n in origins if id(n) not in skip]


def check_tx_origin(program: Program, contract: Contract) -> Iterator[Localisation]:
    for fn in contract.all_functions:
        if program.text_of(fn.node) is None or fn.body is None:
            continue
        uses = _origin_uses(fn.body)
        if uses:
            yield _loc(
                program,
                "tx-origin",
                VulnClass.TX_ORIGIN,
                contract,
                fn,
                fn.body,
                0.8,
                f"{fn.name} trusts tx.origin: any contract the account calls can act as that account",
            )
    for mod in contract.all_modifiers.values():
        if program.text_of(mod.node) is None or mod.body is None:
            continue
        if _origin_uses(mod.body):
            yield _loc(
                program,
                "tx-origin",
                VulnClass.TX_ORIGIN,
                contract,
                None,
                mod.body,
                0.8,
                f"modifier {mod.name} authorises by tx.origin",
            )


def _ignored_calls(fn: Function) -> Iterator[Node]:
    """Calls used as a statement on their own: their result is dropped."""
    for n in fn.program.nodes(fn.body):
        if n.get("nodeType") == "ExpressionStatement":
            expr = n.get("expression") or {}
            if expr.get("nodeType") == "FunctionCall":
                yield n


def check_unchecked_calls(program: Program, contract: Contract) -> Iterator[Localisation]:
    for fn in contract.functions:
        if program.text_of(fn.node) is None or fn.body is None:
            continue
        for stmt in _ignored_calls(fn):
            call = stmt["expression"]
            target = call_target(call)
            name = callee_name(call)
            if target is None:
                continue
            base_type = type_string(target.get("expression") or {})
            if name in ("call", "send", "delegatecall", "callcode") and base_type.startswith("address"):
                yield _loc(
                    program,
                    "unchecked-lowlevel",
                    VulnClass.UNCHECKED_RETURN,
                    contract,
                    fn,
                    stmt,
                    0.75,
                    f"the result of .{name} is ignored: a failed call goes unnoticed",
                )
            elif (
                name in ("transfer", "transferFrom", "approve")
                and is_external_call(call)
                and type_string(call) == "bool"
            ):
                yield _loc(
                    program,
                    "unchecked-transfer",
                    VulnClass.UNCHECKED_RETURN,
                    contract,
                    fn,
                    stmt,
                    0.8,
                    f"the boolean result of token.{name} is ignored: tokens that return false "
                    "instead of reverting let the call 'succeed' without moving funds",
                )


def _is_value_call(call: Node) -> bool:
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


def reentrancy_calls(program: Program, fn: Function) -> list[tuple[Node, set[int]]]:
    """External calls of ``fn`` that can re-enter, each with the state written after it."""
    out: list[tuple[Node, set[int]]] = []
    body = fn.body
    if body is None:
        return out
    for call in fn.external_calls():
        name = callee_name(call)
        target = call_target(call) or {}
        if name in ("transfer", "send") and type_string(target.get("expression") or {}).startswith("address"):
            continue  # 2300 gas stipend: cannot write state when re-entered
        fn_type = type_string(target)
        if " view" in fn_type or " pure" in fn_type or name == "staticcall":
            continue
        after = src(call).end
        written: set[int] = set()
        for n in program.nodes(body):
            if src(n).start < after:
                continue
            for t in _writes_of(program, fn.contract, n):
                written.add(t)
        # the call inside a loop: everything written in the loop happens "after" as well
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
            unlocked_sharing = [g for g in sharing if not has_lock(g)]
            if has_lock(fn) and not unlocked_sharing:
                continue
            score = 0.75 if _is_value_call(call) else 0.65
            evidence = [f"{fn.name} writes {names} after an external call"]
            if unlocked_sharing:
                evidence.append("shared with " + ", ".join(g.name for g in unlocked_sharing))
            yield _loc(program, "reentrancy", VulnClass.REENTRANCY, contract, fn, call, score, *evidence)
            break


def check_arithmetic(program: Program, contract: Contract) -> Iterator[Localisation]:
    if program.at_least(0, 8):
        for fn in contract.functions:
            if program.text_of(fn.node) is None or fn.body is None:
                continue
            for block in (n for n in fn.program.nodes(fn.body) if n.get("nodeType") == "UncheckedBlock"):
                ops = [op for op in walk(block) if _risky_op(op)]
                if ops:
                    mul = any(o.get("operator") in ("*", "*=", "**") for o in ops)
                    yield _loc(
                        program,
                        "unsafe-unchecked",
                        VulnClass.INTEGER_OVERFLOW,
                        contract,
                        fn,
                        block,
                        0.6 if mul else 0.45,
                        f"unchecked arithmetic in {fn.name} can wrap around",
                    )
        return
    uses_safemath = any(
        (u.get("libraryName") or {}).get("name", "").lower().startswith("safemath")
        for c in contract.linearized
        for u in c.own("UsingForDirective")
    )
    for fn in contract.functions:
        if program.text_of(fn.node) is None or fn.body is None or not fn.mutates:
            continue
        ops = [op for op in fn.program.nodes(fn.body) if _risky_op(op)]
        state_ops = [op for op in ops if program.direct_reads(op) or program.direct_writes(op)]
        if not ops:
            continue
        params = {int(p["id"]) for p in (fn.node.get("parameters") or {}).get("parameters") or []}
        # a product of caller-chosen values wraps with one well-chosen input (BEC's batchOverflow)
        param_mul = any(
            o.get("operator") in ("*", "*=", "**")
            and any(
                x.get("referencedDeclaration") in params
                or (x.get("nodeType") == "MemberAccess" and x.get("memberName") == "length")
                for x in walk(o)
            )
            for o in ops
        )
        score = 0.6 if (state_ops or param_mul) else 0.4
        if uses_safemath:
            # the author checks arithmetic elsewhere: a raw operation next to it was forgotten, but
            # most raw ones are deliberate (loop counters, constants), so only products stand out
            score += 0.05 if param_mul else -0.2
        yield _loc(
            program,
            "unchecked-arithmetic",
            VulnClass.INTEGER_OVERFLOW,
            contract,
            fn,
            None,
            score,
            f"{len(ops)} unchecked operation(s) in {fn.name} (solc {program.version} wraps on overflow)",
        )


def _risky_op(op: Node) -> bool:
    kind = op.get("nodeType")
    if kind == "BinaryOperation":
        operator = op.get("operator")
        sides = [op.get("leftExpression") or {}, op.get("rightExpression") or {}]
    elif kind == "Assignment":
        operator = op.get("operator")
        sides = [op.get("leftHandSide") or {}, op.get("rightHandSide") or {}]
    else:
        return False
    if operator not in ("+", "-", "*", "**", "+=", "-=", "*="):
        return False
    if not type_string(op if kind == "BinaryOperation" else sides[0]).startswith("uint"):
        return False
    literal = [s.get("nodeType") == "Literal" or s.get("isConstant") is True for s in sides]
    if all(literal):
        return False
    if operator in ("+", "+=") and sides[1].get("nodeType") == "Literal":
        return False  # a counter stepped by a constant: 2**256 steps away from wrapping
    # block.number - 1, now - 60: the chain's own clock is far from zero
    from bulwark.patch.fixes.timestamp import is_now

    left = sides[0]
    chain_clock = is_now(left) or (
        left.get("nodeType") == "MemberAccess"
        and left.get("memberName") == "number"
        and (left.get("expression") or {}).get("name") == "block"
    )
    return not (operator == "-" and chain_clock and sides[1].get("nodeType") == "Literal")


def check_signatures(program: Program, contract: Contract) -> Iterator[Localisation]:
    for fn in own_entries(program, contract):
        parts = program.closure(fn)
        sig_calls = [
            n
            for p in parts
            for n in p.program.nodes(p.body)
            if n.get("nodeType") == "FunctionCall" and callee_name(n) in _SIG_CALLS
        ]
        if not sig_calls:
            continue
        written = program.writes(fn)
        replay_safe = any(
            "=> bool" in type_string(program.nodes_by_id.get(v) or {}).replace(")", "")
            or "nonce" in program.name_of(v).lower()
            for v in written
        )
        if replay_safe:
            if not _binds_contract(program, contract, fn):
                yield _loc(
                    program,
                    "signature-cross-domain",
                    VulnClass.SIGNATURE_REPLAY,
                    contract,
                    fn,
                    sig_calls[0],
                    0.6,
                    f"{fn.name} tracks used signatures, but the signed message names neither the contract "
                    "nor the chain: a signature for another deployment of this code is accepted here",
                )
            continue
        yield _loc(
            program,
            "signature-replay",
            VulnClass.SIGNATURE_REPLAY,
            contract,
            fn,
            sig_calls[0],
            0.8,
            f"{fn.name} accepts a signature with no nonce or used-signature record",
        )


def _binds_contract(program: Program, contract: Contract, fn: Function) -> bool:
    """Does every signed message ``fn`` verifies include ``address(this)`` (or is EIP-712)?"""
    from bulwark.patch.fixes.signature_replay import _message_encoding, verifications

    found = verifications(program, contract, fn)
    if not found:
        return True  # cannot tell where the message comes from: say nothing
    for v in found:
        hit = _message_encoding(program, contract, fn, v.digest)
        if hit is None:
            continue  # EIP-712 or built elsewhere
        enc, _ = hit
        if not any(n.get("nodeType") == "Identifier" and n.get("name") == "this" for n in walk(enc)):
            return False
    return True


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
                root = base_variable(n.get("leftHandSide") or {})
                if (root or {}).get("referencedDeclaration") == var and any(
                    is_msg_sender(x) for x in walk(n.get("rightHandSide") or {})
                ):
                    return True
    return False


def blocking_payments(program: Program, fn: Function) -> list[Node]:
    """Value payments in ``fn`` whose refusal by the recipient reverts ``fn``, paid to someone other
    than the caller, in a loop or to an address kept in storage (a previous king, bidder, member)."""
    out: list[Node] = []
    body = fn.body
    if body is None or program.checks_sender(fn):
        return out
    loops = [src(n) for n in program.nodes(body) if n.get("nodeType") in _LOOPS]
    for call in fn.external_calls():
        target = call_target(call) or {}
        base = target.get("expression") or {}
        name = callee_name(call)
        if not type_string(base).startswith("address") or name not in ("transfer", "send", "call"):
            continue
        if any(is_msg_sender(x) for x in walk(base)):
            continue  # the caller's own payment: refusing it only hurts the caller
        if name == "call" and not _is_value_call(call):
            continue
        if name != "transfer" and not _result_checked(fn, call):
            continue
        cs = src(call)
        in_loop = any(lp.start <= cs.start and cs.end <= lp.end for lp in loops)
        root = base_variable(base)
        ref = (root or {}).get("referencedDeclaration")
        stored = ref is not None and _caller_settable(program, fn.contract, int(ref))
        if in_loop or stored:
            out.append(call)
    return out


def check_dos(program: Program, contract: Contract) -> Iterator[Localisation]:
    for fn in own_entries(program, contract):
        calls = blocking_payments(program, fn)
        if not calls:
            continue
        loops = [src(n) for n in fn.program.nodes(fn.body) if n.get("nodeType") in _LOOPS]
        in_loop = any(lp.start <= src(c).start < lp.end for c in calls for lp in loops)
        yield _loc(
            program,
            "push-payment-dos",
            VulnClass.DOS,
            contract,
            fn,
            calls[0],
            # in a loop one refusing recipient blocks every other: as sure as a DoS finding gets
            0.7 if in_loop else 0.55,
            f"{fn.name} reverts when one recipient refuses its payment"
            + (" inside a loop: one recipient blocks everyone" if in_loop else ""),
        )


def _clock_written(program: Program, contract: Contract) -> set[int]:
    """State variables assigned the current block time somewhere in the contract."""
    from bulwark.patch.fixes.timestamp import is_now

    out: set[int] = set()
    for fn in contract.all_functions:
        for n in fn.program.nodes(fn.body):
            if n.get("nodeType") == "Assignment" and is_now(n.get("rightHandSide") or {}):
                root = base_variable(n.get("leftHandSide") or {}) or {}
                if root.get("referencedDeclaration") is not None:
                    out.add(int(root["referencedDeclaration"]))
    return out


def check_timestamp(program: Program, contract: Contract) -> Iterator[Localisation]:
    from bulwark.patch.fixes.timestamp import waiting_checks

    clock_set = _clock_written(program, contract)
    for fn in own_entries(program, contract):
        found = waiting_checks(program, fn.body or {})
        if found:
            root = base_variable(found[0][1]) or {}
            # the stored time comes from the clock itself: the waiting period is the whole point
            sure = root.get("referencedDeclaration") in clock_set
            yield _loc(
                program,
                "timestamp-wait",
                VulnClass.TIMESTAMP_DEPENDENCE,
                contract,
                fn,
                found[0][0],
                0.62 if sure else 0.45,
                f"{fn.name} measures a waiting period with the block timestamp only: a block producer "
                "who sets its timestamp ahead passes it in one block",
            )


def check_oracle(program: Program, contract: Contract) -> Iterator[Localisation]:
    entries = entry_functions(contract)
    for fn in contract.functions:
        if program.text_of(fn.node) is None or fn.body is None:
            continue
        for call in (n for n in fn.program.nodes(fn.body) if n.get("nodeType") == "FunctionCall"):
            if (callee_name(call) in SPOT_CALLS and is_external_call(call)) or (
                callee_name(call) in SPOT_CALLS and " external" in type_string(call_target(call) or {})
            ):
                # the spot value decides a state change (a borrow limit, a mint): the flaw itself
                decides = any(program.reaches(e, fn.id) for e in entries)
                yield _loc(
                    program,
                    "spot-price",
                    VulnClass.ORACLE_MANIPULATION,
                    contract,
                    fn,
                    call,
                    0.9 if decides else 0.65,
                    f"{fn.name} values assets at the spot price from {callee_name(call)}(), which one "
                    "transaction can move"
                    + (", and a state-changing function acts on that value" if decides else ""),
                )


def check_randomness(program: Program, contract: Contract) -> Iterator[Localisation]:
    from bulwark.patch.locate.randomness import pays_or_credits_caller, uses_block_entropy

    for fn in own_entries(program, contract):
        if program.checks_sender(fn):
            continue  # a privileged caller, or already limited to externally owned accounts
        node = uses_block_entropy(program, fn)
        if node is None:
            continue
        stake = pays_or_credits_caller(program, fn)
        yield _loc(
            program,
            "block-randomness",
            VulnClass.WEAK_RANDOMNESS,
            contract,
            fn,
            node if program.text_of(node) is not None else None,
            0.7 if stake else 0.5,
            f"{fn.name} decides its outcome from block data that a contract calling it in the same "
            "block computes first" + (", and it takes a stake or pays out" if stake else ""),
        )


def check_erc4626(program: Program, contract: Contract) -> Iterator[Localisation]:
    for fn in contract.functions:
        if program.text_of(fn.node) is None or fn.body is None:
            continue
        nodes = program.nodes(fn.body)
        for cond in (n for n in nodes if n.get("nodeType") in ("Conditional", "IfStatement")):
            if supply_is_zero(program, cond.get("condition") or {}):
                yield _loc(
                    program,
                    "erc4626-no-offset",
                    VulnClass.ERC4626_INFLATION,
                    contract,
                    fn,
                    cond,
                    0.7,
                    f"{fn.name} prices shares 1:1 on an empty vault and pro rata after, with no virtual "
                    "shares: a donation before the first deposit inflates the share price",
                )


def supply_is_zero(program: Program, cond: Node) -> Node | None:
    """For ``supply == 0`` where supply is the share supply, the supply expression node."""
    if cond.get("nodeType") != "BinaryOperation" or cond.get("operator") != "==":
        return None
    left, right = cond.get("leftExpression") or {}, cond.get("rightExpression") or {}
    if right.get("nodeType") != "Literal" or str(right.get("value")) != "0":
        return None
    if _is_supply(program, left):
        return left
    return None


def _is_supply(program: Program, expr: Node) -> bool:
    if expr.get("nodeType") == "FunctionCall":
        return (callee_name(expr) or "").lower() == "totalsupply"
    if expr.get("nodeType") == "Identifier":
        name = str(expr.get("name") or "").lower()
        return "supply" in name or "totalshares" in name
    if expr.get("nodeType") == "IndexAccess":
        base = base_variable(expr)
        return (base is not None and "supply" in str(base.get("name") or "").lower()) or (
            base is not None and "shares" in str(base.get("name") or "").lower()
        )
    return False


CHECKS: tuple[Check, ...] = (
    check_access_control,
    check_initializers,
    check_upgrade_auth,
    check_selfdestruct_delegatecall,
    check_tx_origin,
    check_unchecked_calls,
    check_reentrancy,
    check_arithmetic,
    check_signatures,
    check_oracle,
    check_erc4626,
    check_dos,
    check_timestamp,
    check_randomness,
)


def run_checks(program: Program, contracts: list[Contract]) -> list[Localisation]:
    out: list[Localisation] = []
    for contract in contracts:
        if contract.kind != "contract":
            continue
        for check in CHECKS:
            out.extend(check(program, contract))
    return out
