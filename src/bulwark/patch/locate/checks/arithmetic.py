"""Integer overflow: raw arithmetic before solc 0.8, ``unchecked`` blocks after it, and (solc 0.4)
loop counters declared with ``var``, which take the narrowest type of their first value
(``for (var i = 0; i < list.length; i++)`` counts in uint8): once the bound passes 255 the counter
wraps before reaching it and the loop never ends."""

from __future__ import annotations

import re
from collections.abc import Iterator

from bulwark.domain import VulnClass
from bulwark.domain.patch import Localisation
from bulwark.patch.locate.finding import localisation
from bulwark.patch.solast import Contract, Function, Node, Program, base_variable, src, type_string, walk


def narrow_counters(program: Program, body: Node | None) -> list[Node]:
    """``var`` declarations of ``for`` loop counters whose inferred type is narrower than the bound
    the loop's condition compares them with."""
    out: list[Node] = []
    for loop in program.nodes(body, "ForStatement"):
        init = loop.get("initializationExpression") or {}
        decls = [d for d in init.get("declarations") or [] if d]
        if (
            init.get("nodeType") != "VariableDeclarationStatement"
            or len(decls) != 1
            or decls[0].get("typeName")
        ):
            continue  # a type the author wrote is the author's choice
        bits = re.fullmatch(r"u?int(\d*)", type_string(decls[0]))
        width = int(bits.group(1) or 256) if bits else 256
        cond = loop.get("condition") or {}
        if width >= 256 or cond.get("nodeType") != "BinaryOperation":
            continue
        for mine, other in (("leftExpression", "rightExpression"), ("rightExpression", "leftExpression")):
            bound = re.fullmatch(r"u?int(\d*)", type_string(cond.get(other) or {}))
            if (cond.get(mine) or {}).get("referencedDeclaration") == decls[0].get("id") and (
                bound and int(bound.group(1) or 256) > width
            ):
                out.append(decls[0])
                break
    return out


def check_arithmetic(program: Program, contract: Contract) -> Iterator[Localisation]:
    if not program.at_least(0, 5):
        for fn in contract.functions:
            if program.text_of(fn.node) is None:
                continue
            for decl in narrow_counters(program, fn.body)[:1]:
                yield localisation(
                    program,
                    "narrow-loop-counter",
                    VulnClass.INTEGER_OVERFLOW,
                    contract,
                    fn,
                    decl,
                    # it wraps for certain once the bound passes the counter's range; close enough to a
                    # DoS finding on the same loop (a list anyone grows) that both fixes go together
                    0.65,
                    f"the loop counter {decl.get('name')} in {fn.name} is a `var`, so it is a "
                    f"{type_string(decl)}: it wraps before reaching a bound above its range and the loop "
                    "never ends",
                )
    if program.at_least(0, 8):
        for fn in contract.functions:
            if program.text_of(fn.node) is None or fn.body is None:
                continue
            for block in (n for n in fn.program.nodes(fn.body) if n.get("nodeType") == "UncheckedBlock"):
                ops = [op for op in walk(block) if risky_op(op)]
                if ops:
                    mul = any(o.get("operator") in ("*", "*=", "**") for o in ops)
                    yield localisation(
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
        ops = [op for op in fn.program.nodes(fn.body) if risky_op(op) and not _cannot_wrap(program, fn, op)]
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
        yield localisation(
            program,
            "unchecked-arithmetic",
            VulnClass.INTEGER_OVERFLOW,
            contract,
            fn,
            None,
            score,
            f"{len(ops)} unchecked operation(s) in {fn.name} (solc {program.version} wraps on overflow)",
        )


def _is_msg_value(node: Node) -> bool:
    return (
        node.get("nodeType") == "MemberAccess"
        and node.get("memberName") == "value"
        and (node.get("expression") or {}).get("name") == "msg"
    )


def _bits(node: Node) -> int | None:
    """An upper bound on the bits ``node``'s value needs when it is built from amounts of ether
    (msg.value, a balance: all the ether there is fits in 88 bits) and literals; None if unbounded."""
    kind = node.get("nodeType")
    if _is_msg_value(node) or (kind == "MemberAccess" and node.get("memberName") == "balance"):
        return 88
    if kind == "Literal" and node.get("kind") == "number" and not node.get("subdenomination"):
        try:
            return int(str(node.get("value")).replace("_", ""), 0).bit_length()
        except ValueError:
            return None  # 1e18, 2 ether: solc folds these; not worth parsing here
    if kind == "TupleExpression" and len(node.get("components") or []) == 1:
        return _bits((node.get("components") or [{}])[0] or {})
    if kind == "BinaryOperation":
        a, b = _bits(node.get("leftExpression") or {}), _bits(node.get("rightExpression") or {})
        operator = node.get("operator")
        if operator == "/" and a is not None:
            return a
        if a is None or b is None:
            return None
        if operator == "*":
            return a + b
        if operator == "+":
            return max(a, b) + 1
    return None


def _stored(program: Program, node: Node) -> bool:
    ref = (base_variable(node) or {}).get("referencedDeclaration")
    return ref is not None and bool((program.nodes_by_id.get(int(ref)) or {}).get("stateVariable"))


def _text(program: Program, node: Node) -> str:
    st = program.text_of(node)
    return "".join(st.of(node).split()) if st is not None else ""


def _cannot_wrap(program: Program, fn: Function, op: Node) -> bool:
    """An operation that cannot wrap whatever the caller does: arithmetic on amounts of ether and
    small literals (all the ether there is fits in 2**88: ``msg.value * 100``, ``total += msg.value``),
    or ``a - b`` / ``a -= b`` after the function has already required ``a >= b`` (or thrown on
    ``a < b``). Such operations are the bulk of pre-0.8
    code, and flagging them only buries the flaw an old contract really has."""
    kind = op.get("nodeType")
    operator = op.get("operator")
    if kind == "Assignment":
        left, right = op.get("leftHandSide") or {}, op.get("rightHandSide") or {}
    else:
        left, right = op.get("leftExpression") or {}, op.get("rightExpression") or {}
    if operator == "+=":
        return (_bits(right) or 256) <= 128
    if operator in ("+", "*"):
        if (_bits(op) or 256) <= 200:
            return True
        # ``pot = pot + msg.value``: a stored total grown by ether, as ``+=`` is
        return operator == "+" and any(
            (_bits(x) or 256) <= 128 and _stored(program, y) for x, y in ((left, right), (right, left))
        )
    if operator not in ("-", "-="):
        return False
    a, b = _text(program, left), _text(program, right)
    at = src(op).start
    for n in program.nodes(fn.body, "BinaryOperation"):
        if src(n).start >= at:
            continue
        x, y = _text(program, n.get("leftExpression") or {}), _text(program, n.get("rightExpression") or {})
        if (n.get("operator"), x, y) in ((">=", a, b), ("<=", b, a), ("<", a, b), (">", b, a)) and _guards(
            program, fn, n
        ):
            return True
    return False


def _guards(program: Program, fn: Function, cmp: Node) -> bool:
    """Is ``cmp`` a guard: the condition of a ``require``/``assert`` (``>=``, ``<=``) or of an
    ``if`` that throws or reverts (``<``, ``>``), rather than one branch of the logic?"""
    fail_on_true = cmp.get("operator") in ("<", ">")
    guard_calls = ("require", "assert")
    for n in program.nodes(fn.body):
        kind = n.get("nodeType")
        called = (n.get("expression") or {}).get("name") if kind == "FunctionCall" else None
        required = _conjuncts((n.get("arguments") or [{}])[0]) if called in guard_calls else []
        if not fail_on_true and any(x is cmp for x in required):
            return True
        if kind == "IfStatement" and fail_on_true and not n.get("falseBody"):
            body = n.get("trueBody") or {}
            throws = any(
                x.get("nodeType") == "Throw"
                or (
                    x.get("nodeType") == "FunctionCall"
                    and (x.get("expression") or {}).get("name") == "revert"
                )
                for x in walk(body)
            )
            if throws and any(x is cmp for x in _disjuncts(n.get("condition") or {})):
                return True
    return False


def _conjuncts(cond: Node) -> list[Node]:
    if cond.get("nodeType") == "BinaryOperation" and cond.get("operator") == "&&":
        return _conjuncts(cond.get("leftExpression") or {}) + _conjuncts(cond.get("rightExpression") or {})
    return [cond]


def _disjuncts(cond: Node) -> list[Node]:
    if cond.get("nodeType") == "BinaryOperation" and cond.get("operator") == "||":
        return _disjuncts(cond.get("leftExpression") or {}) + _disjuncts(cond.get("rightExpression") or {})
    return [cond]


def risky_op(op: Node) -> bool:
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
    from bulwark.patch.locate.checks.clock_span import is_now

    left = sides[0]
    chain_clock = is_now(left) or (
        left.get("nodeType") == "MemberAccess"
        and left.get("memberName") == "number"
        and (left.get("expression") or {}).get("name") == "block"
    )
    return not (operator == "-" and chain_clock and sides[1].get("nodeType") == "Literal")
