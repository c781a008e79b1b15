"""Spans of time measured against a stored clock reading, with the block timestamp alone.

A value written from the clock (``last = block.timestamp``, ``dueAt = block.timestamp + period``,
a struct built with ``block.timestamp``) and later set against the clock again (``block.timestamp -
last`` to accrue or price, ``block.timestamp <= dueAt`` to decide a deadline) measures a span a block
producer can stretch by setting its block's timestamp ahead: an hour of rewards in one block, a
deadline passed early, a falling price reached before its time.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from bulwark.domain import VulnClass
from bulwark.domain.patch import Localisation
from bulwark.patch.locate.finding import localisation
from bulwark.patch.solast import Contract, Function, Node, Program, base_variable, walk

COMPARISONS = frozenset({"<", "<=", ">", ">="})


def is_now(node: Node) -> bool:
    """``now`` or ``block.timestamp``."""
    if node.get("nodeType") == "Identifier" and node.get("name") == "now":
        return True
    base = node.get("expression") or {}
    return (
        node.get("nodeType") == "MemberAccess"
        and node.get("memberName") == "timestamp"
        and base.get("nodeType") == "Identifier"
        and base.get("name") == "block"
    )


def reads_clock(node: Node) -> bool:
    return any(is_now(n) for n in walk(node))


def is_reading(expr: Node) -> bool:
    """A clock reading as stored: ``now``, ``now + x`` or ``now - x`` (through type conversions),
    not an amount computed from the clock (``rate * (now - last)``)."""
    while expr.get("nodeType") == "FunctionCall" and expr.get("kind") == "typeConversion":
        expr = (expr.get("arguments") or [{}])[0]
    if is_now(expr):
        return True
    if expr.get("nodeType") != "BinaryOperation" or expr.get("operator") not in ("+", "-"):
        return False
    left, right = expr.get("leftExpression") or {}, expr.get("rightExpression") or {}
    if expr.get("operator") == "-":
        return is_now(left) and not reads_clock(right)
    return (is_now(left) and not reads_clock(right)) or (is_now(right) and not reads_clock(left))


@dataclass(frozen=True, slots=True)
class ClockWrites:
    """Where the contract stores clock readings: state variables and struct fields, by id / name."""

    variables: frozenset[int]
    fields: frozenset[str]
    # (statement, value expression) for every write of a clock reading, in editable functions
    writes: tuple[tuple[Function, Node, Node], ...]
    # the stored readings (variable id or field name) always set a fixed day or more ahead
    far: frozenset[int | str] = frozenset()
    # the stored reading (variable id or field name) each entry of ``writes`` sets
    write_keys: tuple[int | str, ...] = ()


FAR_SECONDS = 86_400  # a deadline this far ahead is not meaningfully moved by a skewed timestamp
_UNITS = {"seconds": 1, "minutes": 60, "hours": 3600, "days": 86_400, "weeks": 604_800, "years": 31_536_000}


def _seconds(node: Node) -> int | None:
    """The value of a literal number of seconds (``1 weeks``, ``86400``), else None."""
    if node.get("nodeType") != "Literal" or node.get("kind") != "number":
        return None
    try:
        value = int(str(node.get("value")).replace("_", ""))
    except ValueError:
        return None
    return value * _UNITS.get(str(node.get("subdenomination") or "seconds"), 1)


def _ahead(reading: Node) -> int:
    """How far ahead of the clock a stored reading is set, when that is a literal (else 0)."""
    if reading.get("nodeType") == "BinaryOperation" and reading.get("operator") == "+":
        for side in (reading.get("leftExpression") or {}, reading.get("rightExpression") or {}):
            if (n := _seconds(side)) is not None:
                return n
    return 0


def _struct_fields(program: Program, call: Node) -> list[str]:
    ref = (call.get("expression") or {}).get("referencedDeclaration")
    struct = program.nodes_by_id.get(int(ref)) if ref is not None else None
    if not struct or struct.get("nodeType") != "StructDefinition":
        return []
    return [str(m.get("name") or "") for m in struct.get("members") or []]


def clock_writes(program: Program, contract: Contract) -> ClockWrites:
    variables: set[int] = set()
    fields: set[str] = set()
    writes: list[tuple[Function, Node, Node]] = []
    keys: list[int | str] = []
    far: set[int | str] = set()
    near: set[int | str] = set()
    for fn in contract.all_functions:
        if fn.body is None:
            continue
        for stmt in program.nodes(fn.body, "ExpressionStatement"):
            expr = stmt.get("expression") or {}
            rhs = expr.get("rightHandSide") or {}
            if expr.get("nodeType") == "Assignment" and expr.get("operator") == "=" and is_reading(rhs):
                lhs = expr.get("leftHandSide") or {}
                root = base_variable(lhs) or {}
                decl = program.nodes_by_id.get(int(root.get("referencedDeclaration") or -1)) or {}
                key: int | str
                if lhs.get("nodeType") == "MemberAccess":
                    fields.add(key := str(lhs.get("memberName")))
                elif decl.get("stateVariable"):
                    variables.add(key := int(root["referencedDeclaration"]))
                else:
                    continue
                (far if _ahead(rhs) >= FAR_SECONDS else near).add(key)
                writes.append((fn, stmt, expr))
                keys.append(key)
                continue
            for call in walk(expr):
                if call.get("nodeType") != "FunctionCall" or call.get("kind") != "structConstructorCall":
                    continue
                names = _struct_fields(program, call)
                args = call.get("arguments") or []
                if call.get("names") or len(names) != len(args):
                    continue
                for name, arg in zip(names, args, strict=True):
                    if is_reading(arg):
                        fields.add(name)
                        (far if _ahead(arg) >= FAR_SECONDS else near).add(name)
                        writes.append((fn, stmt, arg))
                        keys.append(name)
    return ClockWrites(
        frozenset(variables), frozenset(fields), tuple(writes), frozenset(far - near), tuple(keys)
    )


def _anchored(
    program: Program, body: Node, expr: Node, clock: ClockWrites, depth: int = 0
) -> int | str | None:
    """The stored clock reading ``expr`` reads (directly, or through a local initialised from one):
    its variable id or field name, else None."""
    kind = expr.get("nodeType")
    if kind == "MemberAccess" and str(expr.get("memberName")) in clock.fields:
        return str(expr.get("memberName"))
    if kind in ("Identifier", "IndexAccess"):
        root = base_variable(expr) or {}
        ref = root.get("referencedDeclaration")
        if ref is None:
            return None
        if int(ref) in clock.variables:
            return int(ref)
        decl = program.nodes_by_id.get(int(ref)) or {}
        if kind == "Identifier" and not decl.get("stateVariable") and depth < 3:
            init = _local_init(program, body, int(ref))
            return None if init is None else _anchored(program, body, init, clock, depth + 1)
    return None


def _local_init(program: Program, body: Node, decl_id: int) -> Node | None:
    for st in program.nodes(body, "VariableDeclarationStatement"):
        decls = [d for d in st.get("declarations") or [] if d]
        if len(decls) == 1 and int(decls[0].get("id", -1)) == decl_id:
            return st.get("initialValue") or None
    return None


def _pure(expr: Node) -> bool:
    """Reading it twice gives the same value (no call other than a type conversion)."""
    return not any(
        n.get("nodeType") == "FunctionCall" and n.get("kind") != "typeConversion" for n in walk(expr)
    )


@dataclass(frozen=True, slots=True)
class Span:
    now: Node  # the clock read
    stored: Node  # the stored reading it is set against
    elapsed: bool  # ``now - stored`` (else a comparison)
    key: int | str | None = None  # the stored reading: variable id or field name


def clock_spans(program: Program, fn: Function, clock: ClockWrites) -> list[Span]:
    """``now - stored`` and ``now <op> stored [+ x]`` in ``fn``, for a stored clock reading."""
    out: list[Span] = []
    if fn.body is None:
        return out
    for n in program.nodes(fn.body, "BinaryOperation"):
        op = n.get("operator")
        left, right = n.get("leftExpression") or {}, n.get("rightExpression") or {}
        if op == "-" and is_now(left):
            now, other = left, right
        elif op in COMPARISONS and (is_now(left) or is_now(right)):
            now, other = (left, right) if is_now(left) else (right, left)
            if other.get("nodeType") == "BinaryOperation" and other.get("operator") == "+":
                other = other.get("leftExpression") or {}
        else:
            continue
        if reads_clock(other) or not _pure(other):
            continue
        key = _anchored(program, fn.body, other, clock)
        # a deadline a day or more ahead: a skew of minutes barely moves it (an elapsed time counts)
        if key is None or (op != "-" and key in clock.far):
            continue
        out.append(Span(now, other, op == "-", key))
    return out


def check_clock_span(program: Program, contract: Contract) -> Iterator[Localisation]:
    from bulwark.patch.fixes.timestamp import waiting_checks

    clock = clock_writes(program, contract)
    if not clock.writes:
        return
    for fn in contract.all_functions:
        if fn.body is None or program.text_of(fn.node) is None or fn.kind == "constructor":
            continue
        if waiting_checks(program, fn.body):
            continue  # the waiting-period check reports it
        spans = clock_spans(program, fn, clock)
        if spans:
            yield localisation(
                program,
                "timestamp-span",
                VulnClass.TIMESTAMP_DEPENDENCE,
                contract,
                fn,
                spans[0].now,
                # joins unchecked arithmetic's fix in old code (bundled within 0.05 of it)
                0.55,
                f"{fn.name} sets the block timestamp against a stored clock reading: a block producer "
                "who sets its timestamp ahead stretches the span in a single block",
            )
