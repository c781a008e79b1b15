"""Mispriced vault mint: a vault issues shares (ERC-4626 ``Deposit``) far below its share price.
When the fair cost, shares x (totalAssets + 1), does not fit in 256 bits, the price can only have
come from wrapped arithmetic, so the finding is classed as an integer overflow."""

from __future__ import annotations

from collections.abc import Iterable
from fractions import Fraction

from pydantic import Field

from bulwark.detect.base import About, Detector, Params
from bulwark.detect.evm import topic, word
from bulwark.detect.model import ChainView, TxEvent
from bulwark.domain import Confidence, Finding, Severity, VulnClass

DEPOSIT = topic("Deposit(address,address,uint256,uint256)")
_WRAP = 2**256


class MintPricingParams(Params):
    max_discount: float = Field(default=0.5, gt=0, lt=1)


class MispricedMint(Detector):
    """A vault mints shares far below its share price (wrapped arithmetic when the cost overflows)."""

    ABOUT = About("mispriced-mint", VulnClass.INTEGER_OVERFLOW, trace_only=True)
    IMPACT, CONFIDENCE = Severity.CRITICAL, Confidence.HIGH
    params: MintPricingParams

    def setup(self) -> None:
        self._kept = 1 - Fraction(self.params.max_discount)  # least share of the price a mint pays

    def __call__(self, view: ChainView, event: TxEvent) -> Iterable[Finding]:
        vaults = view.state.vaults
        if not vaults or not event.success:
            return ()
        for log in event.logs:
            if log.address in vaults and log.topics and log.topics[0] == DEPOSIT:
                return self._judge(view, event)
        return ()

    def _judge(self, view: ChainView, event: TxEvent) -> Iterable[Finding]:
        kept = self._kept
        for log in event.logs:
            st = view.state.vaults.get(log.address)
            if st is None or not log.topics or log.topics[0] != DEPOSIT or len(log.data) != 64:
                continue
            assets, shares = word(log.data, 0), word(log.data, 1)
            if shares == 0 or st.total_supply == 0:
                continue
            # paid >= price * kept, cross-multiplied (no Fraction per deposit unless it is a finding)
            if assets * st.total_supply * kept.denominator >= kept.numerator * st.total_assets * shares:
                continue
            price = Fraction(st.total_assets, st.total_supply)
            paid = Fraction(assets, shares)
            wrapped = shares * (st.total_assets + 1) >= _WRAP
            yield self.finding(
                view,
                event,
                title=f"{view.protocol.contracts[log.address].name} minted {shares} shares for {assets} "
                f"asset units ({float(paid / price):.3g} of the share price)"
                + ("; the fair cost overflows 256 bits" if wrapped else ""),
                contract=log.address,
                vuln_class=VulnClass.INTEGER_OVERFLOW if wrapped else VulnClass.INVARIANT_BREAK,
                evidence={"assets": str(assets), "shares": str(shares), "share_price": float(price)},
            )
