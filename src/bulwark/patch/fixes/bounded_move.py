"""A sandwichable trade: bound how far the market's state may move within one block.

A trade priced by state it moves itself (a pool's reserves, a curve's supply), with no bound the
trader passes, gets whatever price that state has when it is mined; a front-runner trades ahead of
it, then back. The ABI cannot grow a ``minOut`` the existing callers would pass, so the fix is a
circuit breaker on the market itself, as a mature AMM or curve guard does it: every open entry that
moves the pricing state records, at the block's first trade, the value each variable had, and a
trade that would leave a variable more than ``1/MOVE_DIVISOR`` away from it reverts. Ordinary
trades (a few percent of the pool) pass unchanged; a front-run large enough to move the price
against a pending trade reverts, and so does the pending trade if it would compound a move already
made in its block. The reference is per block, so splitting the front-run into several transactions
of one block does not help; it lives in an ERC-7201 namespaced slot, so the storage layout is
unchanged. A market that starts empty (a curve's supply at zero, nothing seeding it) gets no patch:
a bound relative to zero would refuse its first ordinary trades, and the report says so.
"""

from __future__ import annotations

from collections.abc import Iterator

from bulwark.domain import VulnClass
from bulwark.domain.patch import Edit, Localisation
from bulwark.patch.context import FixContext, erc7201_slot
from bulwark.patch.fixes.base import Candidate, FixTemplate
from bulwark.patch.locate.checks.priced_trade import priced_trades, seeded
from bulwark.patch.solast import Function

NAMESPACE = "bulwark.patch.BoundedMove"
MOVE_DIVISOR = 20  # a pricing variable may move 5% per block (a constant-product price about 10%)
MODIFIER = "bulwarkBoundedMove"


def _helpers(slot: str, names: list[str]) -> str:
    opens = "\n".join(f"    _bulwarkOpen({i}, {n});" for i, n in enumerate(names))
    checks = "\n".join(f"    _bulwarkWithin({i}, {n});" for i, n in enumerate(names))
    return f"""
/// @dev Added by Bulwark: within one block, {", ".join(names)} may move at most 1/{MOVE_DIVISOR}
///      from their value before the block's first trade, so no large trade can be placed ahead of
///      a pending one (a sandwich). References: ERC-7201 namespace "{NAMESPACE}"
///      (storage layout unchanged).
modifier {MODIFIER}() {{
    _bulwarkOpenMarket();
    _;
    _bulwarkCheckMarket();
}}

function _bulwarkOpenMarket() private {{
{opens}
}}

function _bulwarkCheckMarket() private view {{
{checks}
}}

function _bulwarkOpen(uint256 key, uint256 current) private {{
    // the namespace holds a (reference value, block) pair per variable
    uint256 slot = {slot} + 2 * key;
    uint256 at;
    assembly {{ at := sload(add(slot, 1)) }}
    if (at != block.number) {{
        assembly {{
            sstore(slot, current)
            sstore(add(slot, 1), number())
        }}
    }}
}}

function _bulwarkWithin(uint256 key, uint256 current) private view {{
    uint256 slot = {slot} + 2 * key;
    uint256 ref;
    assembly {{ ref := sload(slot) }}
    uint256 moved = current > ref ? current - ref : ref - current;
    require(moved <= ref / {MOVE_DIVISOR} || ref == 0, "Bulwark: price moved too far in this block");
}}
"""


class BoundedMoveFix(FixTemplate):
    NAME = "bounded-move"
    CLASSES = frozenset({VulnClass.FRONT_RUNNING})
    DESCRIPTION = "a trade may move the market's pricing state only a little per block (sandwich bound)"

    def propose(self, ctx: FixContext, finding: Localisation) -> Iterator[Candidate]:
        if "sandwichable-trade" not in finding.detector:
            return
        program = ctx.program
        if not program.at_least(0, 4, 22):
            return  # functional-style assembly and reason strings
        found = ctx.target(finding)
        if found is None:
            return
        contract, _ = found
        if contract.is_upgradeable:
            return
        trades = priced_trades(program, contract)
        variables = sorted({v for t in trades for v in t.variables})
        if not variables:
            return
        # every open entry that moves the market, whichever direction: the bound is the market's
        movers: list[Function] = []
        for fn in contract.all_functions:
            if not fn.is_entry or not fn.mutates or fn.body is None or program.checks_sender(fn):
                continue
            if set(variables) & program.writes(fn):
                if fn.contract.id != contract.id or not ctx.editable(fn.body):
                    return
                movers.append(fn)
        if not movers or MODIFIER in {n for f in movers for n in f.modifier_names}:
            return
        names = [program.name_of(v) for v in variables]
        empty = [program.name_of(v) for v in variables if not seeded(program, contract, v)]
        if empty:
            # a bound relative to a market that starts at zero refuses its first ordinary trades
            # (the tenth token of a fresh curve moves its supply by a tenth): abstain, say why
            raise ValueError(
                f"{', '.join(empty)} starts at zero (nothing seeds it before the first trade): a bound "
                "relative to its value would refuse ordinary early trades; the trade needs a bound the "
                "trader passes (an ABI change)"
            )
        slot = hex(erc7201_slot(NAMESPACE))
        edits: list[Edit] = [ctx.add_modifier(fn, MODIFIER) for fn in movers]
        edits.append(ctx.contract_end(contract, _helpers(slot, names)))
        listed, entries = ", ".join(names), ", ".join(f.name for f in movers)
        pct = 100 // MOVE_DIVISOR
        yield self.candidate(
            finding,
            edits,
            f"{entries} in {contract.name} priced a trade by {listed}, which the trade itself moves, and "
            "the trader could not bound the price: a trade seen pending could be sandwiched, a large "
            "trade ahead of it moving the price against it and a trade back right after keeping the "
            f"difference. The fix bounds the market per block: each of {listed} may move at most "
            f"{pct}% from its value before the block's first trade, so ordinary trades pass unchanged "
            "while a front-run that would move the price against a pending trade reverts (splitting it "
            "within the block does not help). A larger trade must now be spread over several blocks. "
            "ABI unchanged; the reference values live in an ERC-7201 namespaced slot, so the storage "
            "layout is unchanged.",
        )
