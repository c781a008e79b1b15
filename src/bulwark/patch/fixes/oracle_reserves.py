"""Oracle manipulation on a Uniswap-v2-style pair: time-weighted reserves from its cumulative price.

``pair.getReserves()`` is the spot state of the pool, which a swap earlier in the same transaction
moves at will. A v2 pair also keeps ``price1CumulativeLast`` (the time integral of
``reserve0 / reserve1`` as a UQ112x112) and ``blockTimestampLast``. The fix replaces the read by a
private view that returns reserves whose ratio is the pair's time-weighted average price:
``reserve1`` as it is and ``reserve0 = twap * reserve1``, so any formula over the ratio (either
direction) now sees the average, whatever it does with it.

Observations (cumulative price, time, last average) live in an ERC-7201 namespaced slot keyed by
the pair (no storage variable moves): every state-changing entry point that reads the price
observes first; once ``WINDOW`` seconds have passed since the stored observation, the average over
that window becomes the recorded price. A read uses the average over the elapsed window when it is
long enough, else the last recorded price. Before any price is recorded, the current reserves are
used only if the pair has not traded in this block (a same-transaction manipulation always has);
otherwise the read reverts.
"""

from __future__ import annotations

from collections.abc import Iterator

from bulwark.domain import VulnClass
from bulwark.domain.patch import Edit, Localisation
from bulwark.patch.context import FixContext, erc7201_slot
from bulwark.patch.fixes.base import Candidate, FixTemplate
from bulwark.patch.solast import Contract, Function, Node, Program, call_target, src, type_string, walk

NAMESPACE = "bulwark.patch.TwapObservation"
WINDOW = 1800  # 30 minutes
V2_RESERVES = "tuple(uint112,uint112,uint32)"


def _unchecked(program: Program, stmt: str) -> str:
    return f"unchecked {{ {stmt} }}" if program.at_least(0, 8) else stmt


def helpers(program: Program) -> str:
    slot = hex(erc7201_slot(NAMESPACE))
    acc = _unchecked(program, "cumulative += ((uint256(r0) << 112) / r1) * uint32(now32 - pairTime);")
    avg_obs = _unchecked(program, "last = (cNow - c0) / (block.timestamp - t0);")
    avg_read = _unchecked(program, "price = (cNow - c0) / (block.timestamp - t0);")
    return f"""
/// @dev Added by Bulwark: time-weighted prices from the pair's Uniswap-v2 cumulative price.
///      Observations live in the ERC-7201 namespace "{NAMESPACE}" (storage layout unchanged).
function _bulwarkTwapSlot(address bulwarkPair) private pure returns (bytes32) {{
    return keccak256(abi.encode(bulwarkPair, uint256({slot})));
}}

/// @dev The pair's reserves and its cumulative price1 (reserve0 per reserve1) as of now.
function _bulwarkCumulative(address bulwarkPair)
    private
    view
    returns (uint256 cumulative, uint112 r0, uint112 r1, uint32 pairTime)
{{
    (bool ok, bytes memory data) = bulwarkPair.staticcall(abi.encodeWithSignature("getReserves()"));
    require(ok && data.length >= 96, "Bulwark: getReserves failed");
    (r0, r1, pairTime) = abi.decode(data, (uint112, uint112, uint32));
    (ok, data) = bulwarkPair.staticcall(abi.encodeWithSignature("price1CumulativeLast()"));
    require(ok && data.length >= 32, "Bulwark: the pair keeps no cumulative price");
    cumulative = abi.decode(data, (uint256));
    uint32 now32 = uint32(block.timestamp);
    if (pairTime != now32 && r1 != 0) {{
        {acc}
    }}
}}

function _bulwarkTwapLoad(bytes32 slot) private view returns (uint256 c0, uint256 t0, uint256 last) {{
    assembly {{
        c0 := sload(slot)
        t0 := sload(add(slot, 1))
        last := sload(add(slot, 2))
    }}
}}

/// @dev Record an observation; every {WINDOW} seconds the average since the last one becomes the price.
function _bulwarkObserve(address bulwarkPair) private {{
    bytes32 slot = _bulwarkTwapSlot(bulwarkPair);
    (uint256 c0, uint256 t0, uint256 last) = _bulwarkTwapLoad(slot);
    (uint256 cNow, uint112 r0, uint112 r1, uint32 pairTime) = _bulwarkCumulative(bulwarkPair);
    if (t0 != 0 && block.timestamp - t0 < {WINDOW}) {{
        return;
    }}
    if (t0 == 0) {{
        // first observation: the reserves are a fair price only if nobody traded in this block
        if (last == 0 && pairTime != uint32(block.timestamp) && r1 != 0) {{
            last = (uint256(r0) << 112) / r1;
        }}
    }} else {{
        {avg_obs}
    }}
    uint256 time = block.timestamp;
    assembly {{
        sstore(slot, cNow)
        sstore(add(slot, 1), time)
        sstore(add(slot, 2), last)
    }}
}}

/// @dev Reserves whose ratio is the time-weighted price (reserve1 kept, reserve0 = twap * reserve1).
function _bulwarkTwapReserves(address bulwarkPair) private view returns (uint112, uint112, uint32) {{
    (uint256 c0, uint256 t0, uint256 price) = _bulwarkTwapLoad(_bulwarkTwapSlot(bulwarkPair));
    (uint256 cNow, uint112 r0, uint112 r1, uint32 pairTime) = _bulwarkCumulative(bulwarkPair);
    if (t0 != 0 && block.timestamp - t0 >= {WINDOW}) {{
        {avg_read}
    }}
    if (price == 0) {{
        require(pairTime != uint32(block.timestamp), "Bulwark: no price history yet");
        return (r0, r1, pairTime);
    }}
    require(r1 == 0 || price <= ~uint256(0) / r1, "Bulwark: price out of range");
    uint256 scaled = (price * r1) >> 112;
    require(scaled <= 0xffffffffffffffffffffffffffff, "Bulwark: price out of range");
    return (uint112(scaled), r1, pairTime);
}}
"""


def _holder(contract: Contract, call: Node) -> Function | None:
    for fn in contract.all_functions:
        if any(n is call for n in walk(fn.body)):
            return fn
    return None


class TwapReservesFix(FixTemplate):
    NAME = "oracle-v2-twap-reserves"
    CLASSES = frozenset({VulnClass.ORACLE_MANIPULATION})
    DESCRIPTION = "replaces a v2 pair's spot reserves by reserves at its time-weighted average price"

    def propose(self, ctx: FixContext, finding: Localisation) -> Iterator[Candidate]:
        program = ctx.program
        contract = program.contract(finding.contract)
        if contract is None or finding.start is None or not program.at_least(0, 5):
            return
        calls = [
            n
            for fn in contract.all_functions
            for n in walk(fn.body)
            if n.get("nodeType") == "FunctionCall" and src(n).start == finding.start
        ]
        if not calls:
            return
        call = calls[0]
        target = call_target(call)
        if target is None or target.get("memberName") != "getReserves" or call.get("arguments"):
            return
        if type_string(call).replace(" ", "") != V2_RESERVES:
            return  # not the v2 shape (reserve0, reserve1, blockTimestampLast)
        base = target.get("expression") or {}
        # the pair must be reachable from any function: state, immutables, constants only
        if not all(ctx._portable(n) for n in walk(base) if n.get("nodeType") == "Identifier"):
            return
        if any(n.get("nodeType") == "FunctionCall" and n.get("kind") != "typeConversion" for n in walk(base)):
            return
        pair = f"address({ctx.node_text(base)})"
        holder = _holder(contract, call)
        if holder is None or not ctx.editable(call):
            return
        edits: list[Edit] = [ctx.replace(call, f"_bulwarkTwapReserves({pair})")]
        observers: list[str] = []
        for fn in contract.all_functions:
            if not (fn.is_entry and fn.mutates) or fn.body is None or not ctx.editable(fn.body):
                continue
            if any(part.id == holder.id for part in program.closure(fn)):
                edits.append(ctx.body_start(fn, f"_bulwarkObserve({pair});"))
                observers.append(fn.name or fn.kind)
        edits.append(ctx.contract_end(contract, helpers(program)))
        observed = (
            f" {', '.join(observers)} record an observation before reading;"
            if observers
            else " no state-changing function reads the price, so reads fall back to the current reserves "
            "only while the pair has not traded in the block;"
        )
        yield self.candidate(
            finding,
            edits,
            f"{finding.function} valued assets at the pair's spot reserves, which a swap earlier in the "
            "same transaction moves at will. The fix reads reserves whose ratio is the pair's "
            f"time-weighted average price (from its Uniswap-v2 cumulative price over {WINDOW // 60}-minute "
            f"windows), kept in an ERC-7201 namespaced slot;{observed} until a window has passed the "
            "last recorded price is used, and before any price is recorded the current reserves only if "
            "the pair has not traded in this block (else the read reverts). A manipulation held over "
            "many blocks still moves the average in proportion; ABI and storage layout are unchanged.",
            preference=0.5,
        )
