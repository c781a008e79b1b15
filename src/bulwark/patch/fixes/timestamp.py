"""Timestamp dependence: a waiting period measured in seconds also needs the blocks to pass.

A block producer may set its block's timestamp ahead (by a minute or more on many chains), so a
check like ``block.timestamp >= last + COOLDOWN`` can be passed one block after ``last`` was
written. The fix records the block number whenever ``last`` is set to the current time (in an
ERC-7201 namespaced slot, so the storage layout is unchanged) and lets the check pass only once
enough blocks have also gone by: ``ceil(COOLDOWN / 12)``, the number of 12-second slots the period
spans. Honest users, whose time passes with blocks, are not held back; a producer who skews time
can no longer shorten the wait. Values written before the patch have no record and pass as before.
"""

from __future__ import annotations

from collections.abc import Iterator

from bulwark.domain import VulnClass
from bulwark.domain.patch import Edit, Localisation
from bulwark.patch.context import FixContext, erc7201_slot
from bulwark.patch.fixes.base import Candidate, FixTemplate
from bulwark.patch.locate.checks.clock_span import clock_spans, clock_writes, is_now
from bulwark.patch.solast import Node, Program, base_variable, walk

NAMESPACE = "bulwark.patch.BlockOfTimestamp"
SLOT_SECONDS = 12


def _match(program: Program, n: Node) -> tuple[Node, Node, bool] | None:
    """(stored time, period, passed) when ``n`` compares the clock with a stored time plus a period:
    ``now >= last + period`` (mirrored too), or the elapsed form ``now - last >= period``. ``passed``
    is False for the elapsed form's negation (``if (now - last < period) throw;``): it holds while
    the wait is still running."""
    if n.get("nodeType") != "BinaryOperation" or n.get("operator") not in (">=", ">", "<=", "<"):
        return None
    left, right = n.get("leftExpression") or {}, n.get("rightExpression") or {}
    greater, lesser = (left, right) if n.get("operator") in (">=", ">") else (right, left)

    def elapsed(x: Node) -> bool:
        return (
            x.get("nodeType") == "BinaryOperation"
            and x.get("operator") == "-"
            and is_now(x.get("leftExpression") or {})
        )

    def summed(x: Node) -> bool:
        return x.get("nodeType") == "BinaryOperation" and x.get("operator") == "+"

    if is_now(greater) and summed(lesser):
        stored, period, passed = lesser.get("leftExpression") or {}, lesser.get("rightExpression") or {}, True
    elif is_now(lesser) and summed(greater):
        stored, period, passed = (
            greater.get("leftExpression") or {},
            greater.get("rightExpression") or {},
            False,
        )
    elif elapsed(greater):
        stored, period, passed = greater.get("rightExpression") or {}, lesser, True
    elif elapsed(lesser):
        stored, period, passed = lesser.get("rightExpression") or {}, greater, False
    else:
        return None
    root = base_variable(stored)
    ref = (root or {}).get("referencedDeclaration")
    if ref is None or not (program.nodes_by_id.get(int(ref)) or {}).get("stateVariable"):
        return None
    if any(is_now(x) or x.get("nodeType") == "FunctionCall" for x in walk(period)):
        return None
    return stored, period, passed


def _aborts(stmt: Node) -> bool:
    """``throw;``, ``revert(...);`` (alone or as the only statement of a block)."""
    if stmt.get("nodeType") == "Block":
        inner = stmt.get("statements") or []
        return len(inner) == 1 and _aborts(inner[0])
    if stmt.get("nodeType") == "Throw":
        return True
    expr = stmt.get("expression") or {}
    return (
        stmt.get("nodeType") == "ExpressionStatement"
        and expr.get("nodeType") == "FunctionCall"
        and (expr.get("expression") or {}).get("name") == "revert"
    )


def _abort_conditions(body: Node) -> set[int]:
    """Python ids of the comparisons that make ``if (...) throw;`` abort (the condition, or one
    side of an ``||`` in it): there, "the wait still runs" is the gate."""
    out: set[int] = set()
    for st in walk(body):
        if st.get("nodeType") != "IfStatement" or not _aborts(st.get("trueBody") or {}):
            continue
        todo = [st.get("condition") or {}]
        while todo:
            cond = todo.pop()
            if cond.get("nodeType") == "BinaryOperation" and cond.get("operator") == "||":
                todo += [cond.get("leftExpression") or {}, cond.get("rightExpression") or {}]
            else:
                out.add(id(cond))
    return out


def waiting_checks(program: Program, body: Node) -> list[tuple[Node, Node, Node]]:
    """(comparison, stored time, period) for ``now >= last + period`` (and ``>``, mirrored forms)
    and ``now - last >= period`` (either way round) anywhere, and for the negations (``now < last +
    period``, ``now - last < period``) where they abort the call: ``if (...) throw;``. A negation
    that must hold (``require(now < start + period)``) is a window still open, not a wait."""
    out: list[tuple[Node, Node, Node]] = []
    aborting: set[int] | None = None
    for n in walk(body):
        found = _match(program, n)
        if found is None:
            continue
        if not found[2]:
            if aborting is None:
                aborting = _abort_conditions(body)
            if id(n) not in aborting:
                continue
        out.append((n, found[0], found[1]))
    return out


def _key(ctx: FixContext, stored: Node) -> str | None:
    """A bytes32 naming the storage location ``stored`` (declaration id and index values)."""
    root = base_variable(stored) or {}
    indexes: list[str] = []
    node: Node = stored
    while node.get("nodeType") == "IndexAccess":
        indexes.insert(0, ctx.node_text(node.get("indexExpression") or {}))
        node = node.get("baseExpression") or {}
    if node is not root and node.get("nodeType") != "Identifier":
        return None  # struct members: leave alone
    args = ", ".join([f"uint256({int(root['referencedDeclaration'])})", *indexes])
    return f"keccak256(abi.encode({args}))"


def _helpers() -> str:
    slot = hex(erc7201_slot(NAMESPACE))
    return f"""
/// @dev Added by Bulwark: the block in which a stored time was last set to the current time,
///      kept in the ERC-7201 namespace "{NAMESPACE}" (storage layout unchanged).
function _bulwarkMarkBlock(bytes32 key) private {{
    bytes32 slot = keccak256(abi.encode(key, uint256({slot})));
    assembly {{ sstore(slot, number()) }}
}}

/// @dev True when no block was recorded for `key` (set before the patch) or `blocks` have passed.
function _bulwarkBlocksPassed(bytes32 key, uint256 blocks) private view returns (bool) {{
    bytes32 slot = keccak256(abi.encode(key, uint256({slot})));
    uint256 marked;
    assembly {{ marked := sload(slot) }}
    return marked == 0 || block.number >= marked + blocks;
}}
"""


class BlockFloorFix(FixTemplate):
    NAME = "timestamp-block-floor"
    CLASSES = frozenset({VulnClass.TIMESTAMP_DEPENDENCE})
    DESCRIPTION = "a waiting period in seconds must also span the matching number of blocks"

    def propose(self, ctx: FixContext, finding: Localisation) -> Iterator[Candidate]:
        program = ctx.program
        contract = program.contract(finding.contract)
        if contract is None or not program.at_least(0, 4, 22):
            return
        edits: list[Edit] = []
        keys: set[str] = set()
        for fn in contract.all_functions:
            if fn.body is None or not ctx.editable(fn.body):
                continue
            for cmp, stored, period in waiting_checks(program, fn.body):
                key = _key(ctx, stored)
                if key is None:
                    return
                keys.add(ctx.node_text(stored))
                blocks = f"(uint256({ctx.node_text(period)}) + {SLOT_SECONDS - 1}) / {SLOT_SECONDS}"
                passed = (_match(program, cmp) or (cmp, cmp, True))[2]
                # a check that the wait is over also needs the blocks; one that it still runs holds
                # until the blocks have passed too
                joined = (
                    f"({ctx.node_text(cmp)} && _bulwarkBlocksPassed({key}, {blocks}))"
                    if passed
                    else f"({ctx.node_text(cmp)} || !_bulwarkBlocksPassed({key}, {blocks}))"
                )
                edits.append(ctx.replace(cmp, joined))
        if not edits:
            return
        marks = 0
        for fn in contract.all_functions:
            if fn.body is None or not ctx.editable(fn.body):
                continue
            for stmt in (n for n in walk(fn.body) if n.get("nodeType") == "ExpressionStatement"):
                expr = stmt.get("expression") or {}
                if expr.get("nodeType") != "Assignment" or expr.get("operator") != "=":
                    continue
                lhs = expr.get("leftHandSide") or {}
                if ctx.node_text(lhs) in keys and is_now(expr.get("rightHandSide") or {}):
                    key = _key(ctx, lhs)
                    if key is None:
                        return
                    edits.append(ctx.insert_after(stmt, f"_bulwarkMarkBlock({key});"))
                    marks += 1
        if not marks:
            return  # the stored time is not set from the clock here: nothing to bound it by
        edits.append(ctx.contract_end(contract, _helpers()))
        yield self.candidate(
            finding,
            edits,
            f"{contract.name} measured a waiting period only with the block timestamp, which a block "
            "producer can set ahead, so the wait could be cut to a single block. The fix also requires "
            f"the number of {SLOT_SECONDS}-second slots the period spans to have passed in blocks (the "
            "block is recorded when the time is stored, in an ERC-7201 namespaced slot, so no storage "
            "variable moves). Honest users, whose time passes with blocks, wait as before.",
            preference=_elsewhere(ctx, finding),
        )


def _elsewhere(ctx: FixContext, finding: Localisation) -> int:
    """-2 when the finding's own function has no waiting period but a span, from a stored time no
    waiting period uses, that the bounded clock fixes: the block floor then only repairs other
    functions, and ranks below the fix for this one (both join the first patch)."""
    program = ctx.program
    found = ctx.target(finding)
    if found is None:
        return 0
    contract, fn = found
    if fn.body is None or waiting_checks(program, fn.body):
        return 0
    waited: set[int | str | None] = set()
    for other in contract.all_functions:
        for _, stored, _ in waiting_checks(program, other.body or {}):
            waited.add((base_variable(stored) or {}).get("referencedDeclaration"))
    spans = clock_spans(program, fn, clock_writes(program, contract))
    return -2 if any(span.key not in waited for span in spans) else 0


SPAN_NAMESPACE = "bulwark.patch.ClockAnchor"
MAX_SECONDS_PER_BLOCK = SLOT_SECONDS
# a tolerance window on top: missed slots (a block 24 s after the last) and chains whose blocks run
# a little slow must not hold honest time back; a producer's skew gains at most this much once
TOLERANCE_SECONDS = 60


def _span_helpers() -> str:
    slot = hex(erc7201_slot(SPAN_NAMESPACE))
    return f"""
/// @dev Added by Bulwark: remember the block and time at which the clock reading `t` was stored
///      (ERC-7201 namespace "{SPAN_NAMESPACE}"; storage layout unchanged).
function _bulwarkMarkTime(uint256 t) private {{
    bytes32 slot = keccak256(abi.encode(t, uint256({slot})));
    uint256 mark = block.number * 2**128 + block.timestamp;
    assembly {{ sstore(slot, mark) }}
}}

/// @dev The current time, but never more than {MAX_SECONDS_PER_BLOCK} seconds per block (and
///      {TOLERANCE_SECONDS} seconds of tolerance) past the moment the reading `t` was stored: a
///      block producer's skewed timestamp cannot stretch a span.
function _bulwarkNow(uint256 t) private view returns (uint256) {{
    bytes32 slot = keccak256(abi.encode(t, uint256({slot})));
    uint256 mark;
    assembly {{ mark := sload(slot) }}
    if (mark == 0) {{
        return block.timestamp;
    }}
    uint256 blocks = block.number - mark / 2**128;
    uint256 bound = mark % 2**128 + blocks * {MAX_SECONDS_PER_BLOCK} + {TOLERANCE_SECONDS};
    return block.timestamp < bound ? block.timestamp : bound;
}}
"""


class BoundedClockFix(FixTemplate):
    NAME = "timestamp-bounded-clock"
    CLASSES = frozenset({VulnClass.TIMESTAMP_DEPENDENCE})
    DESCRIPTION = "a span measured from a stored clock reading advances at most one slot per block"

    def propose(self, ctx: FixContext, finding: Localisation) -> Iterator[Candidate]:
        program = ctx.program
        contract = program.contract(finding.contract)
        if contract is None or not program.at_least(0, 4, 22):
            return
        clock = clock_writes(program, contract)
        edits: list[Edit] = []
        used: set[int | str | None] = set()
        found = ctx.target(finding)
        own = found[1].id if found is not None else None
        for fn in contract.all_functions:
            if fn.body is None or not ctx.editable(fn.body) or fn.kind == "constructor":
                continue
            if fn.id != own and waiting_checks(program, fn.body):
                continue  # a waiting period elsewhere is the block floor's to fix (both join one patch)
            for span in clock_spans(program, fn, clock):
                edits.append(ctx.replace(span.now, f"_bulwarkNow({ctx.node_text(span.stored)})"))
                used.add(span.key)
        if not edits:
            return
        marked: set[tuple[int, str]] = set()
        keys = clock.write_keys if len(clock.write_keys) == len(clock.writes) else (None,) * len(clock.writes)
        for (fn, stmt, value), wkey in zip(clock.writes, keys, strict=True):
            if fn.mutability in ("view", "pure") or not ctx.editable(stmt):
                continue
            # only the readings a span is measured from (another stored time may have its own fix)
            if wkey is not None and wkey not in used:
                continue
            if value.get("nodeType") == "Assignment":
                lhs = value.get("leftHandSide") or {}
                root = base_variable(lhs) or {}
                decl = program.nodes_by_id.get(int(root.get("referencedDeclaration") or -1)) or {}
                # an immutable cannot be read back in its constructor: mark the value written
                immutable = decl.get("mutability") == "immutable" or decl.get("constant")
                text = ctx.node_text((value.get("rightHandSide") or {}) if immutable else lhs)
            else:
                text = ctx.node_text(value)
            key = (int(stmt["id"]), text)
            if key not in marked:
                marked.add(key)
                edits.append(ctx.insert_after(stmt, f"_bulwarkMarkTime({text});"))
        if not marked:
            return
        edits.append(ctx.contract_end(contract, _span_helpers()))
        yield self.candidate(
            finding,
            edits,
            f"{contract.name} measured time from a stored clock reading (to accrue, to price, or to decide "
            "a deadline) with the block timestamp alone, which a block producer can set minutes ahead: "
            "a span meant to take an hour could pass in one block. The fix records the block and time "
            "at which each reading is stored (in an ERC-7201 namespaced slot, so no storage variable "
            f"moves) and, where the reading is set against the clock, lets time advance at most "
            f"{MAX_SECONDS_PER_BLOCK} seconds per block since then, with {TOLERANCE_SECONDS} seconds of "
            "tolerance for missed slots. Honest users, whose time passes with blocks, see the same "
            "times; readings stored before the patch are measured as before.",
            preference=-1,
        )
