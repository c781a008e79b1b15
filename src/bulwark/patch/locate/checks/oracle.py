"""Spot-price oracles: values read from a pool's current state, which one transaction can move."""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from bulwark.domain import VulnClass
from bulwark.domain.patch import Localisation
from bulwark.patch.locate.facts import entry_functions
from bulwark.patch.locate.finding import localisation
from bulwark.patch.solast import (
    Contract,
    Function,
    Node,
    Program,
    call_target,
    callee_name,
    is_external_call,
    src,
    type_string,
)

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
# names of time-weighted price functions: the TWAP fix template calls one of these on the same oracle
TWAP_WORDS = ("twap", "consult", "observe", "timeweighted", "getaverage", "averageprice")


def check_oracle(program: Program, contract: Contract) -> Iterator[Localisation]:
    yield from _balance_ratio_findings(program, contract)
    entries = entry_functions(contract)
    for fn in contract.functions:
        if program.text_of(fn.node) is None or fn.body is None:
            continue
        for call in (n for n in fn.program.nodes(fn.body) if n.get("nodeType") == "FunctionCall"):
            if (callee_name(call) in SPOT_CALLS and is_external_call(call)) or (
                callee_name(call) in SPOT_CALLS and " external" in type_string(call_target(call) or {})
            ):
                yield _spot(
                    program, contract, fn, call, entries, "spot-price",
                    f"{fn.name} values assets at the spot price from {callee_name(call)}(), which one "
                    "transaction can move", "value",
                )  # fmt: skip


def spot_balance_reads(program: Program, node: Node) -> list[Node]:
    """``token.balanceOf(pool)`` calls under ``node`` where the holder is another contract: a pool's
    spot balance, which a swap or a transfer earlier in the same transaction moves."""
    out: list[Node] = []
    for call in program.nodes(node, "FunctionCall"):
        args = call.get("arguments") or []
        if callee_name(call) != "balanceOf" or len(args) != 1 or not is_external_call(call):
            continue
        holder = program.text_of(args[0])
        text = holder.slice(src(args[0]).start, src(args[0]).end).replace(" ", "") if holder else ""
        if text in ("this", "address(this)", "msg.sender", "tx.origin") or not type_string(call).startswith(
            "uint"
        ):
            continue
        out.append(call)
    return out


def _local_inits(program: Program, fn: Function) -> dict[int, Node]:
    """Local variable id -> its initial value, for ``T x = <expr>;`` declarations in ``fn``."""
    out: dict[int, Node] = {}
    for stmt in program.nodes(fn.body, "VariableDeclarationStatement"):
        decls = stmt.get("declarations") or []
        init = stmt.get("initialValue")
        if len(decls) == 1 and decls[0] and init:
            out[int(decls[0]["id"])] = init
    return out


def ratio_reads(program: Program, fn: Function, div: Node) -> tuple[list[Node], list[Node]]:
    """The spot balance reads behind each side of a division: in the expression itself or in the
    initial value of a local it uses (``uint256 usdInPair = usd.balanceOf(pair);``)."""
    inits = _local_inits(program, fn)

    def side(expr: Node, depth: int = 0) -> list[Node]:
        reads = spot_balance_reads(program, expr)
        if depth < 2:
            for ident in program.nodes(expr, "Identifier"):
                init = inits.get(int(ident.get("referencedDeclaration") or -1))
                if init is not None:
                    reads.extend(r for r in side(init, depth + 1) if all(r is not x for x in reads))
        return reads

    return side(div.get("leftExpression") or {}), side(div.get("rightExpression") or {})


def _balance_ratio_findings(program: Program, contract: Contract) -> Iterator[Localisation]:
    """A price taken as the ratio of spot pool balances (``usd.balanceOf(pair) / weth.balanceOf(pair)``)."""
    entries = entry_functions(contract)
    for fn in contract.functions:
        if program.text_of(fn.node) is None or fn.body is None:
            continue
        for div in program.nodes(fn.body, "BinaryOperation"):
            if div.get("operator") != "/":
                continue
            left, right = ratio_reads(program, fn, div)
            if not (left and right):
                continue
            yield _spot(
                program, contract, fn, div, entries, "spot-balance-ratio",
                f"{fn.name} prices one token in another from a pool's current balances, which a swap "
                "earlier in the same transaction moves", "price",
            )  # fmt: skip


def _spot(
    program: Program,
    contract: Contract,
    fn: Function,
    node: Node,
    entries: Sequence[Function],
    detector: str,
    says: str,
    what: str,
) -> Localisation:
    """A spot value read in ``fn``: the flaw itself (more confident) when a state-changing entry
    point reaches ``fn`` and so acts on the value (a borrow limit, a mint)."""
    decides = any(program.reaches(e, fn.id) for e in entries)
    return localisation(
        program, detector, VulnClass.ORACLE_MANIPULATION, contract, fn, node, 0.9 if decides else 0.65,
        says + (f", and a state-changing function acts on that {what}" if decides else ""),
    )  # fmt: skip
