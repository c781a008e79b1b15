"""Oracle manipulation: read the source's time-weighted price instead of its spot price."""

from __future__ import annotations

from collections.abc import Iterator

from bulwark.domain import VulnClass
from bulwark.domain.patch import Localisation
from bulwark.patch.context import FixContext
from bulwark.patch.fixes.base import Candidate, FixTemplate
from bulwark.patch.locate.checks.oracle import TWAP_WORDS
from bulwark.patch.solast import Contract, Node, call_target, src, type_string, walk

TWAP_WINDOW = 1800  # 30 minutes: long enough that one block's trade cannot move the average much


def _return_of(ctx: FixContext, contract: Contract, call: Node) -> Node | None:
    """The ``return <call>;`` statement, when more code follows it in the function (a fallback path)."""
    for fn in contract.functions:
        if fn.body is None:
            continue
        for block in (n for n in walk(fn.body) if n.get("nodeType") == "Block"):
            stmts = block.get("statements") or []
            for i, stmt in enumerate(stmts):
                if stmt.get("nodeType") == "Return" and stmt.get("expression") is call:
                    if block is fn.body and i == len(stmts) - 1:
                        return None
                    return dict(stmt)
    return None


class TwapFix(FixTemplate):
    NAME = "oracle-spot-to-twap"
    CLASSES = frozenset({VulnClass.ORACLE_MANIPULATION})
    DESCRIPTION = "replaces a spot-price read by the same source's time-weighted average"

    def propose(self, ctx: FixContext, finding: Localisation) -> Iterator[Candidate]:
        program = ctx.program
        contract = program.contract(finding.contract)
        if contract is None or finding.start is None:
            return
        for call in (n for n in walk(contract.node) if n.get("nodeType") == "FunctionCall"):
            if src(call).start != finding.start:
                continue
            target = call_target(call)
            ref = (target or {}).get("referencedDeclaration")
            if target is None or ref is None:
                return
            owner = program.contract_of_node.get(int(ref))
            if owner is None:
                return
            args = call.get("arguments") or []
            for fn in owner.all_functions:
                if not any(w in fn.name.lower() for w in TWAP_WORDS):
                    continue
                params = (fn.node.get("parameters") or {}).get("parameters") or []
                if len(params) != len(args) + 1 or not type_string(params[-1]).startswith("uint"):
                    continue
                if any(
                    type_string(p) != type_string(a)
                    and not type_string(a).startswith(("int_const", "contract", "address"))
                    for p, a in zip(params, args, strict=False)
                ):
                    continue
                base = ctx.node_text(target.get("expression") or {})
                arg_text = ", ".join(ctx.node_text(a) for a in args)
                window = f"{type_string(params[-1])}({TWAP_WINDOW})"
                replacement = f"{base}.{fn.name}({arg_text}{', ' if arg_text else ''}{window})"
                ret = _return_of(ctx, contract, call)
                if ret is not None and program.at_least(0, 6):
                    rtype = type_string(call)
                    yield self.candidate(
                        finding,
                        [
                            ctx.replace_statement(
                                ret,
                                f"try {replacement} returns ({rtype} bulwarkTwap) {{\n"
                                f"{ctx.text(ret).indent_at(src(ret).start)}{ctx.text(ret).unit()}"
                                "return "
                                f"bulwarkTwap;\n{ctx.text(ret).indent_at(src(ret).start)}}} catch {{}}",
                            )
                        ],
                        f"{finding.function} valued assets at {owner.name}'s spot price, which a flash "
                        "loan can "
                        f"move within one transaction. The fix reads the same source's {fn.name} over "
                        f"{TWAP_WINDOW // 60} minutes instead; while the source cannot answer (too little "
                        "history) the function falls through to its other pricing path rather than the spot.",
                        preference=1,
                    )
                yield self.candidate(
                    finding,
                    [ctx.replace(call, replacement)],
                    f"{finding.function} valued assets at {owner.name}'s spot price, which a flash "
                    "loan can move "
                    f"within one transaction. The fix reads the same source's {fn.name} over "
                    f"{TWAP_WINDOW // 60} "
                    "minutes, which a single transaction cannot move.",
                )
            return
