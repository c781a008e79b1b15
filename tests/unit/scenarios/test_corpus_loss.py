"""The loss measure the corpus is scored by (runner.loss_between): net value that left, priced before."""

from __future__ import annotations

from bulwark.domain import Address
from bulwark.scenarios.runner import Holdings, loss_between

E18 = 10**18
POOL, LENDING, VICTIM = Address("0x" + "1" * 40), Address("0x" + "2" * 40), Address("0x" + "3" * 40)
PRICES = {"usd": E18, "weth": 2_000 * E18}


def _h(usd: dict[Address, int], weth: dict[Address, int], prices: dict[str, int] = PRICES) -> Holdings:
    return Holdings(block=1, balances={"usd": usd, "weth": weth}, prices=prices)


def test_drain_is_priced_in_usd_wei() -> None:
    before = _h({LENDING: 1_000_000 * E18}, {LENDING: 0})
    after = _h({LENDING: 0}, {LENDING: E18 // 100}, prices={"usd": E18, "weth": 10**40})
    loss, drained = loss_between(before, after)
    # 0.01 WETH left behind as collateral is worth 20 USD at the price *before* the attack.
    assert loss == 1_000_000 * E18 - 20 * E18
    assert drained == {"usd": 1_000_000 * E18, "weth": -(E18 // 100)}


def test_moves_between_holders_cancel_out() -> None:
    before = _h({POOL: 100 * E18, LENDING: 50 * E18}, {POOL: E18, LENDING: 0})
    after = _h({POOL: 50 * E18, LENDING: 100 * E18}, {POOL: 0, LENDING: E18})
    assert loss_between(before, after) == (0, {"usd": 0, "weth": 0})


def test_victims_count_and_inflows_offset_but_never_below_zero() -> None:
    before = _h({POOL: 0, VICTIM: 20_000 * E18}, {POOL: 0, VICTIM: 0})
    drained = _h({POOL: 0, VICTIM: 0}, {POOL: 0, VICTIM: 0})
    assert loss_between(before, drained)[0] == 20_000 * E18
    protected = _h({POOL: 30_000 * E18, VICTIM: 0}, {POOL: 0, VICTIM: 0})
    assert loss_between(before, protected)[0] == 0
