"""Transaction-order dependence on a trade's own market: a sandwichable buy, sell or swap.

An entry anyone calls computes the amount it pays out (or charges) from state variables that the
same entry then moves (a pool's reserves, a curve's supply), and no amount the caller passes bounds
the result. A trade therefore gets whatever price the state has when it is mined: an attacker who
sees it pending trades ahead of it in the same direction, lets it execute at the worse price, and
trades back right after, keeping the difference.

The shape is read from the AST, not from names:

* pricing: a local (or a named return) assigned from arithmetic (``*``/``/``, or a library's
  ``mul``/``div``) over state variables, directly or through an internal function;
* a market: the entry moves those variables itself, either one of them (a curve priced by its
  supply) or two in opposite directions (reserves); two that move together are share accounting (a
  vault's assets and shares keep their ratio), and a price read from an external balance is a
  vault's or an oracle's, not the entry's own market;
* a round trip: across the contract's open entries the variables move both ways (buy and sell
  back), so the front-runner can unwind;
* no caller bound: no parameter is compared against the priced amount (``minOut``, ``maxCost``).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from bulwark.domain import VulnClass
from bulwark.domain.patch import Localisation
from bulwark.patch.locate.facts import own_entries
from bulwark.patch.locate.finding import localisation
from bulwark.patch.solast import Contract, Function, Node, Program, callee_name, type_string, walk

UP, DOWN = 1, -1
_ARITH_OPS = frozenset({"*", "/"})
_ARITH_CALLS = frozenset({"mul", "div", "mulDiv", "divWad", "mulWad"})
_SUM = {"+": UP, "-": DOWN, "add": UP, "sub": DOWN}
_CMP = frozenset({"<", "<=", ">", ">="})


@dataclass(frozen=True, slots=True)
class PricedTrade:
    fn: Function
    anchor: Node  # the statement that prices the trade
    variables: tuple[int, ...]  # the state variables it is priced by and moves (ids, sorted)


def _uint_state(program: Program, var: int) -> bool:
    decl = program.nodes_by_id.get(var) or {}
    return (
        bool(decl.get("stateVariable"))
        and not decl.get("constant")
        and decl.get("mutability") not in ("constant", "immutable")
        and type_string(decl).startswith("uint")
    )


def _ref(node: Mapping[str, Any]) -> int | None:
    if node.get("nodeType") != "Identifier" or node.get("referencedDeclaration") is None:
        return None
    return int(node["referencedDeclaration"])


def _direction(node: Node) -> tuple[int, int] | None:
    """(variable id, UP/DOWN) for a relative write of a plain variable: ``x += e``, ``x -= e``,
    ``x = x + e``, ``x = x.sub(e)``, ``x++``."""
    kind = node.get("nodeType")
    if kind == "UnaryOperation" and node.get("operator") in ("++", "--"):
        var = _ref(node.get("subExpression") or {})
        return (var, UP if node["operator"] == "++" else DOWN) if var is not None else None
    if kind != "Assignment":
        return None
    var = _ref(node.get("leftHandSide") or {})
    if var is None:
        return None
    op = str(node.get("operator"))
    if op in ("+=", "-="):
        return var, _SUM[op[0]]
    rhs = node.get("rightHandSide") or {}
    if op != "=":
        return None
    if (
        rhs.get("nodeType") == "BinaryOperation"
        and rhs.get("operator") in ("+", "-")
        and _ref(rhs.get("leftExpression") or {}) == var
    ):
        return var, _SUM[str(rhs["operator"])]
    callee = (rhs.get("expression") or {}) if rhs.get("nodeType") == "FunctionCall" else {}
    name = callee.get("memberName")
    if (
        callee.get("nodeType") == "MemberAccess"
        and name in ("add", "sub")
        and _ref(callee.get("expression") or {}) == var
    ):
        return var, _SUM[str(name)]
    return None


def _moves(program: Program, fn: Function) -> dict[int, set[int]]:
    """State variable id -> the directions ``fn`` (with what it calls internally) moves it in."""
    out: dict[int, set[int]] = {}
    for part in program.closure(fn):
        for n in walk(part.body):
            found = _direction(n)
            if found is not None and _uint_state(program, found[0]):
                out.setdefault(found[0], set()).add(found[1])
    return out


def _open_entries(program: Program, contract: Contract) -> list[Function]:
    return [f for f in own_entries(program, contract) if not program.checks_sender(f)]


def _has_arithmetic(node: Any) -> bool:
    for n in walk(node):
        if n.get("nodeType") == "BinaryOperation" and n.get("operator") in _ARITH_OPS:
            return True
        if n.get("nodeType") == "FunctionCall" and callee_name(n) in _ARITH_CALLS:
            return True
    return False


def _external_price(node: Any) -> bool:
    """Does the expression read a balance or call out (a vault's or an oracle's price)?"""
    for n in walk(node):
        if n.get("nodeType") == "MemberAccess" and n.get("memberName") in ("balance", "balanceOf"):
            return True
        callee = n.get("expression") or {}
        if n.get("nodeType") == "FunctionCall" and callee.get("nodeType") == "MemberAccess":
            base = (callee.get("expression") or {}).get("typeDescriptions") or {}
            if str(base.get("typeString") or "").startswith("contract "):
                return True
    return False


def _pricing(program: Program, fn: Function, rhs: Node) -> tuple[set[int], bool, bool]:
    """(state variables the expression reads, whether it does arithmetic, whether it reads an
    external price), following internal calls."""
    reads = {v for v in program.direct_reads(rhs) if _uint_state(program, v)}
    arith = _has_arithmetic(rhs)
    external = _external_price(rhs)
    for call in program.nodes(rhs, "FunctionCall"):
        target = program.internal_target(fn.contract, call)
        if target is None:
            continue
        for part in program.closure(target):
            reads |= {v for v in program.direct_reads(part.body) if _uint_state(program, v)}
            arith = arith or _has_arithmetic(part.body)
            external = external or _external_price(part.body)
    return reads, arith, external


def _priced_locals(fn: Function) -> Iterator[tuple[Node, int, Node]]:
    """(statement, local id, value expression) for every local or named return assigned in ``fn``."""
    program = fn.program
    for n in program.nodes(fn.body):
        if n.get("nodeType") == "VariableDeclarationStatement" and n.get("initialValue"):
            decls = [d for d in n.get("declarations") or [] if d]
            if len(decls) == 1:
                yield n, int(decls[0]["id"]), n["initialValue"]
        elif n.get("nodeType") == "Assignment" and n.get("operator") == "=":
            var = _ref(n.get("leftHandSide") or {})
            decl = program.nodes_by_id.get(var) if var is not None else None
            if decl is not None and not decl.get("stateVariable"):
                yield n, int(var), n.get("rightHandSide") or {}  # type: ignore[arg-type]


def _bounded_by_caller(fn: Function, local: int) -> bool:
    """Is ``local`` compared against a parameter of ``fn`` (a slippage bound the caller sets)?"""
    params = {int(p["id"]) for p in (fn.node.get("parameters") or {}).get("parameters") or []}
    for n in fn.program.nodes(fn.body, "BinaryOperation"):
        if n.get("operator") not in _CMP:
            continue
        sides = [{_ref(x) for x in walk(n.get(k) or {})} for k in ("leftExpression", "rightExpression")]
        if any(local in a and params & b for a, b in (sides, sides[::-1])):
            return True
    return False


def priced_trades(program: Program, contract: Contract) -> list[PricedTrade]:
    """The contract's open entries that price a trade by state they move themselves, with no bound
    the caller controls (memoised per contract)."""
    key = ("priced-trades", contract.id)
    if key in program.memo:
        return list(program.memo[key])
    entries = _open_entries(program, contract)
    moves = {f.id: _moves(program, f) for f in entries}
    both_ways: dict[int, set[int]] = {}
    for m in moves.values():
        for var, dirs in m.items():
            both_ways.setdefault(var, set()).update(dirs)
    out: list[PricedTrade] = []
    for fn in entries:
        for stmt, local, rhs in _priced_locals(fn):
            reads, arith, external = _pricing(program, fn, rhs)
            moved = {v: d for v, d in moves[fn.id].items() if v in reads}
            if not arith or external or not moved or _bounded_by_caller(fn, local):
                continue
            directions = set().union(*moved.values())
            # one variable (a curve's supply), or reserves moved apart; moved together: share accounting
            if len(moved) > 1 and directions != {UP, DOWN}:
                continue
            if not any(both_ways.get(v) == {UP, DOWN} for v in moved):
                continue  # nobody can trade back: no round trip to sandwich with
            out.append(PricedTrade(fn, stmt, tuple(sorted(moved))))
            break
    program.memo[key] = tuple(out)
    return out


def seeded(program: Program, contract: Contract, var: int) -> bool:
    """Does the market variable have a scale before anyone trades: a non-zero initial value, or a
    value set by the constructor or by a caller-gated function (the operator seeding liquidity)?"""
    decl = program.nodes_by_id.get(var) or {}
    init = decl.get("value") or {}
    if init and not (init.get("nodeType") == "Literal" and str(init.get("value")) == "0"):
        return True
    for fn in contract.all_functions:
        if fn.body is None or var not in program.writes(fn):
            continue
        if fn.kind == "constructor" or program.checks_sender(fn):
            return True
    return False


def check_priced_trade(program: Program, contract: Contract) -> Iterator[Localisation]:
    trades = priced_trades(program, contract)
    if not trades:
        return
    # one finding per market: the fix bounds every entry that moves it, whichever is localised
    first = next((t for t in trades if t.fn.mutability == "payable"), trades[0])
    names = ", ".join(program.name_of(v) for v in sorted({v for t in trades for v in t.variables}))
    entries = ", ".join(dict.fromkeys(t.fn.name for t in trades))
    yield localisation(
        program,
        "sandwichable-trade",
        VulnClass.FRONT_RUNNING,
        contract,
        first.fn,
        first.anchor,
        # joins unchecked arithmetic's fix in old code (bundled within 0.05 of it), as a reprice does
        0.55,
        f"{entries} price a trade by {names}, which the trade itself moves, and no amount the caller "
        "passes bounds the price: a trade seen pending can be sandwiched (traded ahead of, then back)",
    )
