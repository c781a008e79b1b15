"""Oracle manipulation from spot pool balances: each balance may move only a bounded step per block.

A price taken as the ratio of a pool's current balances (``usd.balanceOf(pair) / weth.balanceOf(pair)``)
follows any swap or transfer made earlier in the same transaction. The fix reads every such balance
through a private view that bounds it to ``STEP_DIVISOR`` (5%) around the value accepted in an earlier
block; a swap moves the two balances in opposite directions, so one block can move the ratio by about
10% at most, and a liquidity change (both balances together) keeps the ratio exact.

Accepted values live in an ERC-7201 namespaced slot keyed by (token, holder), so no storage variable
moves: every state-changing entry point that reaches the read records an observation first (one that
cannot read or trust the balance records nothing and never reverts). With no earlier value the
current balance is trusted only if the holder, asked as a Uniswap-v2-style pair, did not trade in
this block (a same-transaction manipulation always has); otherwise the price read reverts.

Limits: a manipulation repeated over many blocks still walks the bound 5% a block, and a genuine
move larger than that is followed with a lag; a pool that is not v2-shaped and has never been read
is trusted at its first read.
"""

from __future__ import annotations

from collections.abc import Iterator

from bulwark.domain import VulnClass
from bulwark.domain.patch import Edit, Localisation
from bulwark.patch.context import FixContext, erc7201_slot
from bulwark.patch.fixes.base import Candidate, FixTemplate
from bulwark.patch.locate.checks.oracle import ratio_reads
from bulwark.patch.solast import Node, call_target, src, walk

NAMESPACE = "bulwark.patch.SteadyBalance"
STEP_DIVISOR = 20  # 5% of the accepted balance per block


def helpers() -> str:
    slot = hex(erc7201_slot(NAMESPACE))
    return f"""
/// @dev Added by Bulwark: pool balances that move at most 1/{STEP_DIVISOR} per block. Accepted values
///      live in the ERC-7201 namespace "{NAMESPACE}" (storage layout unchanged).
function _bulwarkSteadySlot(address bulwarkToken, address bulwarkHolder) private pure returns (bytes32) {{
    return keccak256(abi.encode(bulwarkToken, bulwarkHolder, uint256({slot})));
}}

function _bulwarkSteadyLoad(bytes32 slot)
    private
    view
    returns (uint256 ref, uint256 last, uint256 lastBlock)
{{
    assembly {{
        ref := sload(slot)
        last := sload(add(slot, 1))
        lastBlock := sload(add(slot, 2))
    }}
}}

/// @dev Whether the holder, asked as a Uniswap-v2-style pair, traded in this block.
function _bulwarkTradedThisBlock(address bulwarkHolder) private view returns (bool) {{
    (bool ok, bytes memory data) = bulwarkHolder.staticcall(abi.encodeWithSignature("getReserves()"));
    if (!ok || data.length < 96) {{
        return false;
    }}
    uint256 stamp;
    assembly {{
        stamp := mload(add(data, 96))
    }}
    return stamp == uint256(uint32(block.timestamp));
}}

/// @dev The spot balance, bounded to 1/{STEP_DIVISOR} around the value accepted in an earlier block.
function _bulwarkSteady(address bulwarkToken, address bulwarkHolder, uint256 spot)
    private
    view
    returns (uint256)
{{
    bytes32 slot = _bulwarkSteadySlot(bulwarkToken, bulwarkHolder);
    (uint256 ref, uint256 last, uint256 lastBlock) = _bulwarkSteadyLoad(slot);
    if (lastBlock < block.number) {{
        ref = last;
    }}
    if (ref == 0) {{
        // no earlier value: fail closed when the pool has already moved in this block
        require(!_bulwarkTradedThisBlock(bulwarkHolder), "Bulwark: pool traded this block, no earlier price");
        return spot;
    }}
    uint256 step = ref / {STEP_DIVISOR};
    if (spot > ref && spot - ref > step) {{
        return ref + step;
    }}
    if (spot < ref && ref - spot > step) {{
        return ref - step;
    }}
    return spot;
}}

/// @dev Record this block's accepted balance (the value of the last earlier block becomes the reference).
///      Never reverts: a balance it cannot read or trust is left for the price read itself to refuse.
function _bulwarkSteadyObserve(address bulwarkToken, address bulwarkHolder) private {{
    (bool ok, bytes memory data) = bulwarkToken.staticcall(
        abi.encodeWithSelector(bytes4(0x70a08231), bulwarkHolder) // balanceOf(address)
    );
    if (!ok || data.length < 32) {{
        return;
    }}
    uint256 spot = abi.decode(data, (uint256));
    bytes32 slot = _bulwarkSteadySlot(bulwarkToken, bulwarkHolder);
    (uint256 ref, uint256 last, uint256 lastBlock) = _bulwarkSteadyLoad(slot);
    if (lastBlock < block.number) {{
        ref = last;
    }}
    if (ref == 0 && _bulwarkTradedThisBlock(bulwarkHolder)) {{
        return;
    }}
    uint256 value = _bulwarkSteady(bulwarkToken, bulwarkHolder, spot);
    uint256 bulwarkBlock = block.number;
    assembly {{
        sstore(slot, ref)
        sstore(add(slot, 1), value)
        sstore(add(slot, 2), bulwarkBlock)
    }}
}}
"""


class SteadyBalanceFix(FixTemplate):
    NAME = "oracle-steady-balances"
    CLASSES = frozenset({VulnClass.ORACLE_MANIPULATION})
    DESCRIPTION = "bounds every spot pool balance in a price to a small step per block"

    def _portable(self, ctx: FixContext, node: Node) -> bool:
        # the read is repeated at each entry point: state, immutables and constants only
        if not all(ctx._portable(n) for n in walk(node) if n.get("nodeType") == "Identifier"):
            return False
        return not any(
            n.get("nodeType") == "FunctionCall" and n.get("kind") != "typeConversion" for n in walk(node)
        )

    def propose(self, ctx: FixContext, finding: Localisation) -> Iterator[Candidate]:
        program = ctx.program
        contract = program.contract(finding.contract)
        if contract is None or finding.start is None or not program.at_least(0, 5):
            return
        found = [
            (fn, n)
            for fn in contract.all_functions
            for n in walk(fn.body)
            if n.get("nodeType") == "BinaryOperation" and src(n).start == finding.start
        ]
        if not found:
            return
        holder, div = found[0]
        left, right = ratio_reads(program, holder, div)
        reads = left + [r for r in right if all(r is not x for x in left)]
        edits: list[Edit] = []
        observed: dict[str, str] = {}
        for call in reads:
            target = call_target(call)
            arg = (call.get("arguments") or [{}])[0]
            if target is None or not ctx.editable(call):
                return
            base = target.get("expression") or {}
            if not (self._portable(ctx, base) and self._portable(ctx, arg)):
                return
            token, who, text = ctx.node_text(base), ctx.node_text(arg), ctx.node_text(call)
            edits.append(ctx.replace(call, f"_bulwarkSteady(address({token}), address({who}), {text})"))
            observed[text] = f"_bulwarkSteadyObserve(address({token}), address({who}));"
        if not edits:
            return
        observers: list[str] = []
        for fn in contract.all_functions:
            if not (fn.is_entry and fn.mutates) or fn.body is None or not ctx.editable(fn.body):
                continue
            if any(part.id == holder.id for part in program.closure(fn)):
                edits.extend(ctx.body_start(fn, stmt) for stmt in observed.values())
                observers.append(fn.name or fn.kind)
        edits.append(ctx.contract_end(contract, helpers()))
        where = (
            f"{', '.join(observers)} record the balances before acting"
            if observers
            else "no state-changing function reads the price, so only the first-use rule applies"
        )
        yield self.candidate(
            finding,
            edits,
            f"{finding.function} derived a price from a pool's current balances, which a swap earlier "
            f"in the same transaction moves at will. The fix bounds each balance to a 1/{STEP_DIVISOR} "
            "step around the value accepted in an earlier block (a swap can move the ratio by about "
            f"10% per block, a liquidity change keeps it exact); {where}. With no earlier value the "
            "current balance is trusted only if the pool did not trade in this block, else the read "
            "reverts. ABI and storage layout are unchanged.",
            preference=0.5,
        )
