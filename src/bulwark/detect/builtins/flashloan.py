"""Flash-loan price manipulation: within one transaction a flash loan is taken, an AMM's price is
pushed far from where it stood, and, while it is displaced, a protocol contract that may read that
price is called. Reserves are replayed from the Transfer logs in execution order, so a price that
is pushed and restored inside the transaction is still seen."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from fractions import Fraction

from pydantic import Field

from bulwark.detect.base import Detector, Params
from bulwark.detect.evm import selector, transfer
from bulwark.detect.model import ChainView, TxEvent
from bulwark.domain import Address, Confidence, Finding, Log, Selector, Severity, VulnClass

FLASH_SELECTORS = frozenset(
    {
        selector("flashLoan(address,address,uint256,bytes)"),  # ERC-3156
        selector("flashLoan(address,address[],uint256[],uint256[],address,bytes,uint16)"),  # Aave v2/v3
        selector("flashLoanSimple(address,address,uint256,bytes,uint16)"),  # Aave v3
        selector("flashLoan(address,address[],uint256[],bytes)"),  # Balancer
        selector("flash(address,uint256,uint256,bytes)"),  # Uniswap v3
    }
)
PRICE_READS = frozenset(
    {
        selector("getReserves()"),
        selector("spotPrice(address)"),
        selector("slot0()"),
        selector("price(address)"),
    }
)


class FlashLoanParams(Params):
    max_price_impact: float = Field(default=0.15, gt=0)
    require_flash_loan: bool = True


class FlashLoanPriceManipulation(Detector):
    ARGUMENT = "flash-loan-price-manipulation"
    HELP = "Flash loan + large AMM price impact + a protocol call while the price is displaced"
    IMPACT = Severity.CRITICAL
    CONFIDENCE = Confidence.MEDIUM
    CLASS = VulnClass.ORACLE_MANIPULATION
    WIKI = "docs/detectors.md#flash-loan-price-manipulation"
    PARAMS = FlashLoanParams

    def __call__(self, view: ChainView, event: TxEvent) -> Iterable[Finding]:
        if not event.success or not view.state.pools:
            return
        p = self.params
        assert isinstance(p, FlashLoanParams)
        lenders = view.protocol.all_flash_lenders
        # Cheap exits first: most transactions take no flash loan and move no pool reserves.
        calls = [st.frame for st in event.calls() if st.frame is not None and not st.reverted]
        if p.require_flash_loan and not any(f.selector in FLASH_SELECTORS or f.to in lenders for f in calls):
            return
        if not any(lg.address in view.state.pools or _touches(lg, view.state.pools) for lg in event.logs):
            return
        flash = False
        reserves = {a: [s.reserve0, s.reserve1] for a, s in view.state.pools.items()}
        start = {a: Fraction(s.reserve1, s.reserve0) for a, s in view.state.pools.items() if s.reserve0}
        bound = Fraction(p.max_price_impact)
        worst: dict[Address, Fraction] = {}
        displaced: set[Address] = set()
        victims: dict[Address, tuple[Address, Selector | None, bool]] = {}
        for step in event.steps:
            if step.reverted:
                continue
            if step.kind == "call" and step.frame is not None:
                f = step.frame
                if f.selector in FLASH_SELECTORS or (step.context in lenders and f.type == "CALL"):
                    flash = flash or f.selector in FLASH_SELECTORS or f.to in lenders
                if displaced and step.context is not None:
                    for pool in displaced:
                        reads = f.to == pool and f.selector in PRICE_READS and f.sender != pool
                        if (
                            reads
                            and view.protocol.is_protected(f.sender)
                            and f.sender not in view.state.pools
                        ):
                            victims[f.sender] = (pool, f.selector, True)
                        elif (
                            view.protocol.is_protected(step.context)
                            and step.context not in view.state.pools
                            and view.protocol.contracts[step.context].kind not in ("token", "flash-lender")
                            and f.type == "CALL"
                        ):
                            victims.setdefault(step.context, (pool, f.selector, False))
            elif step.log is not None:
                t = transfer(step.log)
                if t is None:
                    continue
                token, src, dst, amount = t
                for pool in (src, dst):
                    st = view.state.pools.get(pool)
                    if st is None or pool not in start:
                        continue
                    i = 0 if token == st.token0 else 1 if token == st.token1 else None
                    if i is None:
                        continue
                    reserves[pool][i] += amount if pool == dst else -amount
                    r0, r1 = reserves[pool]
                    if r0 <= 0:
                        continue
                    impact = abs(Fraction(r1, r0) / start[pool] - 1)
                    worst[pool] = max(worst.get(pool, Fraction(0)), impact)
                    if impact > bound:
                        displaced.add(pool)
                    else:
                        displaced.discard(pool)
        if p.require_flash_loan and not flash:
            return
        for victim, (pool, sel, read) in victims.items():
            yield self.finding(
                view,
                event,
                title=(
                    f"price of {view.protocol.contracts[pool].name} moved {float(worst[pool]):.0%} "
                    f"{'with a flash loan ' if flash else ''}while {view.protocol.contracts[victim].name} "
                    f"{'read it' if read else 'was called'}"
                ),
                contract=victim,
                function=sel,
                confidence=Confidence.HIGH if read else Confidence.MEDIUM,
                evidence={
                    "pool": pool,
                    "max_price_impact": float(worst[pool]),
                    "flash_loan": flash,
                    "price_read_observed": read,
                },
            )


def _touches(log: Log, pools: Mapping[Address, object]) -> bool:
    t = transfer(log)
    return t is not None and (t[1] in pools or t[2] in pools)
