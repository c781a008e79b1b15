"""ERC-4626 share inflation: in one transaction a vault's assets per share jump by orders of
magnitude (a tiny supply plus a donation), which rounds the next depositors' shares to nothing."""

from __future__ import annotations

from collections.abc import Iterable
from fractions import Fraction

from pydantic import Field

from bulwark.detect.base import About, Detector, Params
from bulwark.detect.evm import ZERO
from bulwark.detect.model import ChainView, TxEvent
from bulwark.domain import Confidence, Finding, Severity, VulnClass


class InflationParams(Params):
    max_price_jump: float = Field(default=10.0, gt=1)


class ShareInflation(Detector):
    """A vault's assets per share multiplied within one transaction (first-depositor inflation)."""

    ABOUT = About("share-inflation", VulnClass.ERC4626_INFLATION, trace_only=True)
    IMPACT, CONFIDENCE = Severity.CRITICAL, Confidence.MEDIUM
    params: InflationParams

    def setup(self) -> None:
        self._jump = Fraction(self.params.max_price_jump)

    def __call__(self, view: ChainView, event: TxEvent) -> Iterable[Finding]:
        if not event.success:
            return
        flows = event.flows()
        for vault, st in view.state.vaults.items():
            minted = -flows.get((vault, ZERO), 0)
            inflow = flows.get((st.asset, vault), 0)
            if minted == 0 and inflow == 0:
                continue
            supply, assets = st.total_supply + minted, st.total_assets + inflow
            if supply <= 0 or assets <= 0:
                continue
            # An empty vault's reference is one asset unit per share: a plain vault mints 1:1 and a
            # vault with a decimals offset mints more shares per unit, so honest first deposits stay
            # at or below it.
            if st.total_assets <= 0 and st.total_supply:
                continue  # no price before: nothing to multiply
            # after / before > jump, cross-multiplied (exact; no Fraction unless it is a finding)
            b_num, b_den = (st.total_assets, st.total_supply) if st.total_supply else (1, 1)
            if assets * b_den * self._jump.denominator <= self._jump.numerator * supply * b_num:
                continue
            before = Fraction(b_num, b_den)
            after = Fraction(assets, supply)
            yield self.finding(
                view,
                event,
                title=f"assets per share of {view.protocol.contracts[vault].name} jump "
                f"{float(after / before):.3g}x in one transaction",
                contract=vault,
                evidence={
                    "supply_before": str(st.total_supply),
                    "supply_after": str(supply),
                    "assets_after": str(assets),
                    "price_before": float(before),
                    "price_after": float(after),
                },
            )
