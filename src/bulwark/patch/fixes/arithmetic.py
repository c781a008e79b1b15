"""Arithmetic: checked arithmetic back where it was switched off.

solc >= 0.8: the ``unchecked`` keyword of a block doing risky arithmetic is dropped (the block
stays, so scoping is unchanged). Older compilers: every unsigned ``+ - *`` of the function goes
through a checked-math library emitted into the source, which reverts exactly when solc 0.8 would.
"""

from __future__ import annotations

from collections.abc import Iterator

from bulwark.domain import VulnClass
from bulwark.domain.patch import Edit, Localisation
from bulwark.patch.context import FixContext
from bulwark.patch.fixes.base import Candidate, FixTemplate
from bulwark.patch.locate.checks.arithmetic import narrow_counters, risky_op
from bulwark.patch.solast import Node, src, type_string, walk

LIBRARY = "BulwarkCheckedMath"
_FUNCS = {"+": "add", "-": "sub", "*": "mul"}


def library_source(modern: bool) -> str:
    vis = "internal pure"
    return f"""

/// @dev Added by Bulwark: checked arithmetic for code compiled without overflow checks.
library {LIBRARY} {{
    function add(uint256 a, uint256 b) {vis} returns (uint256 c) {{
        c = a + b;
        require(c >= a, "addition overflow");
    }}

    function sub(uint256 a, uint256 b) {vis} returns (uint256) {{
        require(b <= a, "subtraction underflow");
        return a - b;
    }}

    function mul(uint256 a, uint256 b) {vis} returns (uint256 c) {{
        if (a == 0) {{
            return 0;
        }}
        c = a * b;
        require(c / a == b, "multiplication overflow");
    }}
}}
"""


class RemoveUncheckedFix(FixTemplate):
    NAME = "remove-unchecked"
    CLASSES = frozenset({VulnClass.INTEGER_OVERFLOW})
    DESCRIPTION = "drops `unchecked` from blocks doing arithmetic on untrusted values (solc >= 0.8)"

    def propose(self, ctx: FixContext, finding: Localisation) -> Iterator[Candidate]:
        if not ctx.program.at_least(0, 8) or finding.function is None:
            return
        contract = ctx.program.contract(finding.contract)
        fn = contract.function(finding.function) if contract else None
        if fn is None or fn.body is None or not ctx.editable(fn.node):
            return
        edits = []
        for block in (n for n in walk(fn.body) if n.get("nodeType") == "UncheckedBlock"):
            if not any(risky_op(op) for op in walk(block)):
                continue
            st = ctx.text(block)
            s = src(block)
            keyword = st.slice(s.start, s.start + 9)
            brace = s.start + 9
            while st.slice(brace, brace + 1) in (" ", "\t", "\n", "\r"):
                brace += 1
            if keyword == "unchecked" and st.slice(brace, brace + 1) == "{":
                edits.append(Edit(st.path, s.start, brace, ""))
        if edits:
            yield self.candidate(
                finding,
                edits,
                f"{fn.name} did arithmetic in an `unchecked` block, so a large input wrapped around instead "
                "of reverting. The fix restores solc's overflow checks there: results are unchanged "
                "for every "
                "input that did not overflow, and an overflow now reverts.",
            )


class WidenCounterFix(FixTemplate):
    NAME = "widen-loop-counter"
    CLASSES = frozenset({VulnClass.INTEGER_OVERFLOW})
    DESCRIPTION = "declares a `var` loop counter as uint256 instead of the narrow type solc 0.4 inferred"

    def propose(self, ctx: FixContext, finding: Localisation) -> Iterator[Candidate]:
        if "narrow-loop-counter" not in finding.detector or finding.function is None:
            return
        contract = ctx.program.contract(finding.contract)
        fn = contract.function(finding.function) if contract else None
        if fn is None or not ctx.editable(fn.node):
            return
        edits = []
        for decl in narrow_counters(ctx.program, fn.body):
            st = ctx.text(decl)
            s = src(decl)
            if st.slice(s.start, s.start + 4) == "var ":
                edits.append(Edit(st.path, s.start, s.start + 3, "uint256"))
        if edits:
            yield self.candidate(
                finding,
                edits,
                f"A loop in {fn.name} declared its counter with `var`, which solc 0.4 types from the first "
                "value (0 -> uint8): past 255 elements the counter wrapped before reaching the bound and "
                "the loop ran out of gas. The fix declares the counter uint256; every loop that used to "
                "finish runs exactly as before.",
                preference=1.0,
            )


class CheckedMathFix(FixTemplate):
    NAME = "checked-math-library"
    CLASSES = frozenset({VulnClass.INTEGER_OVERFLOW})
    DESCRIPTION = "routes unsigned + - * through an emitted checked-math library (solc < 0.8)"

    def propose(self, ctx: FixContext, finding: Localisation) -> Iterator[Candidate]:
        program = ctx.program
        if program.at_least(0, 8) or finding.function is None:
            return
        contract = program.contract(finding.contract)
        fn = contract.function(finding.function) if contract else None
        if contract is None or fn is None or fn.body is None or not ctx.editable(fn.node):
            return
        edits: list[Edit] = []
        ops = [op for op in walk(fn.body) if risky_op(op) and _wrappable(op)]
        # nested operations: rewrite the outermost and render inner ones recursively
        inner_ids = {id(x) for op in ops for x in walk(op) if x is not op}
        for op in ops:
            if id(op) in inner_ids:
                continue
            text = _render(ctx, op)
            if text is not None:
                edits.append(ctx.replace(op, text))
        if not edits:
            return
        st = contract.source
        edits.append(Edit(st.path, len(st.data), len(st.data), library_source(program.at_least(0, 5))))
        yield self.candidate(
            finding,
            edits,
            f"{fn.name} in {contract.name} (solc {program.version}, no overflow checks) did unsigned "
            f"arithmetic that can wrap around. The fix routes each + - * through {LIBRARY}, emitted into "
            "the file, which reverts on overflow and returns the same result otherwise.",
        )


def _wrappable(op: Node) -> bool:
    operator = str(op.get("operator"))
    if operator.rstrip("=") not in _FUNCS:
        return False
    typ = type_string(op if op.get("nodeType") == "BinaryOperation" else op.get("leftHandSide") or {})
    return typ in ("uint256", "uint")


def _render(ctx: FixContext, node: Node) -> str | None:
    """Text of ``node`` with every wrappable operation inside it turned into a library call."""
    kind = node.get("nodeType")
    if kind == "BinaryOperation" and risky_op(node) and _wrappable(node):
        left = _render(ctx, node["leftExpression"])
        right = _render(ctx, node["rightExpression"])
        if left is None or right is None:
            return None
        return f"{LIBRARY}.{_FUNCS[str(node['operator'])]}({left}, {right})"
    if kind == "Assignment" and risky_op(node) and _wrappable(node):
        lhs = node["leftHandSide"]
        if any(n.get("nodeType") == "FunctionCall" for n in walk(lhs)):
            return None  # the target would be evaluated twice
        right = _render(ctx, node["rightHandSide"])
        if right is None:
            return None
        lhs_text = ctx.node_text(lhs)
        return f"{lhs_text} = {LIBRARY}.{_FUNCS[str(node['operator'])[0]]}({lhs_text}, {right})"
    # any other node: splice rendered children into its text
    text = ctx.node_text(node)
    base = src(node).start
    st = ctx.text(node)
    pieces: list[tuple[int, int, str]] = []
    for child in _children(node):
        if any(risky_op(x) and _wrappable(x) for x in walk(child)):
            rendered = _render(ctx, child)
            if rendered is None:
                return None
            s = src(child)
            pieces.append((s.start - base, s.end - base, rendered))
    data = text.encode()
    out = b""
    pos = 0
    for a, b, r in sorted(pieces):
        out += data[pos:a] + r.encode()
        pos = b
    del st
    return (out + data[pos:]).decode()


def _children(node: Node) -> list[Node]:
    out: list[Node] = []
    for key, value in node.items():
        if key in ("typeDescriptions",):
            continue
        if isinstance(value, dict) and "nodeType" in value:
            out.append(value)
        elif isinstance(value, list):
            out.extend(v for v in value if isinstance(v, dict) and "nodeType" in v)
    return out
