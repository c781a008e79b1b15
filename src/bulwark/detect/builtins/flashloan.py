"""Flash-loan manipulation: within one transaction value is borrowed and repaid (a flash loan, from
any lender: recognised from the call tree, not from a list of lenders or selectors), and while it is
out either a pool's price is pushed far from where it stood while a protocol contract that may read
it is called, or a protected holder loses more than a set share of an asset.

Pools are the ``amm`` contracts: Uniswap-v2 shaped ones by their reserves, any other (a custom
pool priced by its own formula) by the balances of the protected assets it holds. Reserves are
replayed from the Transfer logs in execution order, so a price that is pushed and restored inside
the transaction is still seen."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from fractions import Fraction

from pydantic import Field

from bulwark.detect.base import About, Detector, Params
from bulwark.detect.evm import selector, transfer
from bulwark.detect.model import ChainView, PoolState, TxEvent
from bulwark.detect.trace import Loan, flash_loans
from bulwark.domain import Address, Confidence, Finding, Selector, Severity, VulnClass

FLASH_SELECTORS = frozenset(
    {
        selector("flashLoan(address,address,uint256,bytes)"),  # ERC-3156
        selector("flashLoan(address,address[],uint256[],uint256[],address,bytes,uint16)"),  # Aave v2/v3
        selector("flashLoanSimple(address,address,uint256,bytes,uint16)"),  # Aave v3
        selector("flashLoan(address,address[],uint256[],bytes)"),  # Balancer
        selector("flash(address,uint256,uint256,bytes)"),  # Uniswap v3
    }
)
_FLASH_BYTES = frozenset(bytes.fromhex(s[2:]) for s in FLASH_SELECTORS)  # compared with calldata
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
    max_outflow_share: float = Field(default=0.1, gt=0, le=1)


class FlashLoanPriceManipulation(Detector):
    """Flash loan (any lender) + a pool's price displaced while the protocol is called, or an outflow."""

    ABOUT = About("flash-loan-price-manipulation", VulnClass.ORACLE_MANIPULATION, trace_only=True)
    IMPACT, CONFIDENCE = Severity.CRITICAL, Confidence.MEDIUM
    params: FlashLoanParams

    def setup(self) -> None:
        self._pools_of: tuple[object, object] = (None, None)
        self._pools: dict[Address, PoolState] = {}
        # Thresholds as exact fractions once (Fraction(float) per transaction was a measurable cost).
        self._share = Fraction(self.params.max_outflow_share)
        self._impact = Fraction(self.params.max_price_impact)

    def __call__(self, view: ChainView, event: TxEvent) -> Iterable[Finding]:
        if not event.success:
            return ()
        named = _names_loan(event, view.protocol.all_flash_lenders)
        # Fail closed: flash_loans() is consulted whenever a loan's shape may be there.
        may_lend = named or event.may_lend()
        if self.params.require_flash_loan and not may_lend:
            return ()  # no loan possible, and every finding here needs one: nothing to walk
        return self._judge(view, event, named, may_lend)

    def _judge(self, view: ChainView, event: TxEvent, named: bool, may_lend: bool) -> Iterable[Finding]:
        p = self.params
        # The pools follow from the protocol and its snapshot: derived once per head, not per tx.
        if self._pools_of[0] is not view.protocol or self._pools_of[1] is not view.state:
            self._pools_of, self._pools = (view.protocol, view.state), _pools(view)
        pools = self._pools
        # Cheap exits first: most transactions move no pool reserves and drain nothing.
        touched = bool(pools) and (
            any(lg.address in pools for lg in event.logs)
            or any(src in pools or dst in pools for _, _, src, dst, _ in event.transfers())
        )
        outflows = _outflows(view, event, self._share)
        if not touched and not outflows:
            return
        # may_lend is necessary for any loan: without it flash_loans() finds none.
        loans = flash_loans(event.steps) if may_lend else []
        if p.require_flash_loan and not named and not loans:
            return
        if touched:
            yield from self._manipulations(view, event, pools, named, loans, p)
        if named or loans:
            lent_by = {ln.lender for ln in loans}
            for (token, holder), (lost, had) in outflows.items():
                if holder in lent_by:
                    continue
                name = view.protocol.contracts[holder].name if view.protocol.is_protected(holder) else holder
                yield self.finding(
                    view,
                    event,
                    title=f"{float(Fraction(lost, had)):.0%} of {name}'s {_asset(view, token)} left "
                    "within a flash-loaned transaction",
                    contract=holder,
                    vuln_class=VulnClass.ORACLE_MANIPULATION,
                    evidence={
                        "holder": holder,
                        "asset": token,
                        "outflow": lost,
                        "holding": had,
                        "outflow_share": float(Fraction(lost, had)),
                        "flash_loan": True,
                        "loans": _loans_json(loans),
                    },
                )

    def _manipulations(
        self,
        view: ChainView,
        event: TxEvent,
        pools: Mapping[Address, PoolState],
        named: bool,
        loans: list[Loan],
        p: FlashLoanParams,
    ) -> Iterable[Finding]:
        reserves = {a: [s.reserve0, s.reserve1] for a, s in pools.items()}
        start = {a: Fraction(s.reserve1, s.reserve0) for a, s in pools.items() if s.reserve0}
        bound = self._impact
        worst: dict[Address, Fraction] = {}
        displaced: set[Address] = set()
        victims: dict[Address, tuple[Address, Selector | None, bool, int]] = {}
        for at, step in enumerate(event.steps):
            if step.reverted:
                continue
            if step.kind == "call" and step.frame is not None:
                f = step.frame
                if displaced and step.context is not None:
                    for pool in displaced:
                        reads = (
                            f.to == pool
                            and f.sender != pool
                            and (
                                f.selector in PRICE_READS
                                or (pool not in view.state.pools and f.type == "STATICCALL")
                            )
                        )
                        if reads and view.protocol.is_protected(f.sender) and f.sender not in pools:
                            victims[f.sender] = (pool, f.selector, True, at)
                        elif (
                            view.protocol.is_protected(step.context)
                            and step.context not in pools
                            and view.protocol.contracts[step.context].kind not in ("token", "flash-lender")
                            and f.type == "CALL"
                        ):
                            victims.setdefault(step.context, (pool, f.selector, False, at))
            elif step.log is not None:
                t = transfer(step.log)
                if t is None:
                    continue
                token, src, dst, amount = t
                for pool in (src, dst):
                    st = pools.get(pool)
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
        for victim, (pool, sel, read, at) in victims.items():
            # A loan from (or to) the displaced pool itself is the manipulation's own round trip,
            # not its financing; any other loan must be open when the protocol is called.
            open_loans = [
                ln for ln in loans if pool not in (ln.lender, ln.borrower) and ln.lent_at < at < ln.repaid_at
            ]
            flash = named or bool(open_loans)
            if p.require_flash_loan and not flash:
                continue
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
                    "loans": _loans_json(open_loans),
                },
            )


def _pools(view: ChainView) -> dict[Address, PoolState]:
    """Every ``amm`` contract's two reserves: Uniswap-v2 reserves when it has them, else its holdings
    of the first two protected assets it holds (a custom pool prices from its balances)."""
    out = dict(view.state.pools)
    holdings = view.state.holdings
    for c in view.protocol.by_kind("amm"):
        if c.address in out:
            continue
        held = [
            (a.address, holdings[(a.address, c.address)])
            for a in view.protocol.assets
            if a.address is not None and holdings.get((a.address, c.address), 0) > 0
        ]
        if len(held) >= 2:
            (t0, r0), (t1, r1) = held[0], held[1]
            out[c.address] = PoolState(t0, t1, r0, r1)
    return out


def _names_loan(event: TxEvent, lenders: frozenset[Address]) -> bool:
    """Is a known flash-loan entry point or a configured lender called (and not reverted)?"""
    for st in event.calls():
        f = st.frame
        if f is not None and not st.reverted and (f.input[:4] in _FLASH_BYTES or f.to in lenders):
            return True
    return False


def _outflows(
    view: ChainView, event: TxEvent, bound: Fraction
) -> dict[tuple[Address, Address], tuple[int, int]]:
    """(asset, holder) -> (net outflow, holding at the last head) beyond ``bound`` of the holding."""
    holdings = view.state.holdings
    if not holdings:
        return {}
    out = {}
    num, den = bound.numerator, bound.denominator
    for (token, holder), delta in event.flows().items():
        if delta >= 0:
            continue
        had = holdings.get((token, holder))
        if had and -delta * den > num * had:  # -delta / had > bound, without a Fraction per flow
            out[(token, holder)] = (-delta, had)
    return out


def _asset(view: ChainView, token: Address) -> str:
    return next((a.name for a in view.protocol.assets if a.address == token), token)


def _loans_json(loans: Iterable[Loan]) -> list[dict[str, object]]:
    return [
        {"lender": ln.lender, "borrower": ln.borrower, "asset": ln.token, "amount": ln.amount} for ln in loans
    ]
