"""Flash loans from the call tree, whatever the lender, and what they finance: a custom pool's
price displaced while the protocol reads it, or an outflow from a protected holder."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from tests.unit.detect.synth import (
    ATTACK_CONTRACT,
    ATTACKER,
    E18,
    LENDING,
    USD,
    USER,
    WETH,
    addr,
    call,
    event,
    transfer_log,
)

from bulwark.detect.builtins.flashloan import FlashLoanPriceManipulation
from bulwark.detect.model import AssetInfo, ChainView, ContractInfo, ProtocolModel
from bulwark.detect.trace import flash_loans
from bulwark.domain import Severity, VulnClass

CPOOL, LENDER = addr(0x31), addr(0x32)  # a custom pool (own pricing), a lender no list knows


def _view(view: ChainView) -> ChainView:
    p = view.protocol
    contracts = {**p.contracts, CPOOL: ContractInfo("cpool", CPOOL, "amm")}
    assets = (
        AssetInfo("usd", USD, 18, (*p.assets[0].holders, CPOOL)),
        AssetInfo("weth", WETH, 18, (*p.assets[1].holders, CPOOL)),
    )
    holdings = {**view.state.holdings, (USD, CPOOL): 200_000 * E18, (WETH, CPOOL): 100 * E18}
    state = replace(view.state, holdings=holdings, pools={})
    return ChainView(ProtocolModel(p.name, contracts, assets, p.roles, p.flash_lenders), state)


def _loan(
    body: list[dict[str, Any]], amount: int = 500_000 * E18, repay: int | None = None
) -> dict[str, Any]:
    """ATTACK_CONTRACT borrows from LENDER through an unknown entry point and a callback."""
    give = call(
        LENDER, USD, "transfer(address,uint256)", logs=[transfer_log(USD, LENDER, ATTACK_CONTRACT, amount)]
    )
    back = call(
        ATTACK_CONTRACT,
        USD,
        "transfer(address,uint256)",
        logs=[transfer_log(USD, ATTACK_CONTRACT, LENDER, amount if repay is None else repay)],
    )
    hook = call(LENDER, ATTACK_CONTRACT, "whenLent(uint256)", calls=[*body, back])
    return call(
        ATTACKER,
        ATTACK_CONTRACT,
        calls=[call(ATTACK_CONTRACT, LENDER, "lend(uint256)", calls=[give, hook])],
    )


def _pump_read_dump(read: bool = True, amount: int = 500_000 * E18) -> list[dict[str, Any]]:
    out = 60 * E18 * amount // (500_000 * E18)
    pump = call(
        ATTACK_CONTRACT,
        CPOOL,
        "buy(uint256)",
        calls=[
            call(CPOOL, USD, "transferFrom(address,address,uint256)",
                 logs=[transfer_log(USD, ATTACK_CONTRACT, CPOOL, amount)]),
            call(CPOOL, WETH, "transfer(address,uint256)",
                 logs=[transfer_log(WETH, CPOOL, ATTACK_CONTRACT, out)]),
        ],
    )  # fmt: skip
    reads = [call(LENDING, CPOOL, "quote()", typ="STATICCALL")] if read else []
    use = call(ATTACK_CONTRACT, LENDING, "borrow(uint256)", calls=reads)
    dump = call(
        ATTACK_CONTRACT,
        CPOOL,
        "sell(uint256)",
        calls=[
            call(CPOOL, WETH, "transferFrom(address,address,uint256)",
                 logs=[transfer_log(WETH, ATTACK_CONTRACT, CPOOL, out)]),
            call(CPOOL, USD, "transfer(address,uint256)",
                 logs=[transfer_log(USD, CPOOL, ATTACK_CONTRACT, amount)]),
        ],
    )  # fmt: skip
    return [pump, use, dump]


def test_a_loan_is_recognised_from_the_call_tree_whatever_the_lender(view: ChainView) -> None:
    ev = event(_loan([]))
    [loan] = flash_loans(ev.steps)
    assert (loan.lender, loan.borrower, loan.token, loan.amount) == (
        LENDER,
        ATTACK_CONTRACT,
        USD,
        500_000 * E18,
    )
    assert loan.lent_at < loan.repaid_at
    assert flash_loans(event(_loan([], repay=400_000 * E18)).steps) == []  # not repaid: not a flash loan
    # a trade and its reverse on one pool lend nothing to the pool (it never called the trader)
    assert [
        ln.lender for ln in flash_loans(event(call(ATTACKER, ATTACK_CONTRACT, calls=_pump_read_dump())).steps)
    ] == [CPOOL]


def test_a_native_coin_loan(view: ChainView) -> None:
    hook = call(LENDER, ATTACK_CONTRACT, "whenLent(uint256)", value=10 * E18,
                calls=[call(ATTACK_CONTRACT, LENDER, "repay()", value=10 * E18)])  # fmt: skip
    ev = event(
        call(ATTACKER, ATTACK_CONTRACT, calls=[call(ATTACK_CONTRACT, LENDER, "lend(uint256)", calls=[hook])])
    )
    [loan] = flash_loans(ev.steps)
    assert loan.token is None and loan.amount == 10 * E18


def test_custom_pool_displaced_with_a_custom_lender_while_the_protocol_reads_it(view: ChainView) -> None:
    v = _view(view)
    det = FlashLoanPriceManipulation()
    [f] = list(det(v, event(_loan(_pump_read_dump()))))
    assert f.severity is Severity.CRITICAL and f.vuln_class is VulnClass.ORACLE_MANIPULATION
    assert f.contract == LENDING and f.evidence["pool"] == CPOOL and f.evidence["price_read_observed"]
    assert f.evidence["loans"][0]["lender"] == LENDER
    # the same trades with the trader's own money: no loan, no finding (the default needs one)
    assert list(det(v, event(call(ATTACKER, ATTACK_CONTRACT, calls=_pump_read_dump())))) == []
    # a small trade inside a loan does not displace the price
    assert list(det(v, event(_loan(_pump_read_dump(amount=1_000 * E18))))) == []


def test_flash_loan_with_a_protocol_outflow(view: ChainView) -> None:
    det = FlashLoanPriceManipulation()
    drain = call(
        LENDING,
        USD,
        "transfer(address,uint256)",
        logs=[transfer_log(USD, LENDING, ATTACK_CONTRACT, 150_000 * E18)],
    )
    body = [call(ATTACK_CONTRACT, LENDING, "redeem(uint256)", calls=[drain])]
    [f] = list(det(view, event(_loan(body))))
    assert f.contract == LENDING and f.evidence["outflow_share"] == 0.15
    # the same outflow without a loan is the invariant detector's to judge (at its own threshold)
    assert list(det(view, event(call(ATTACKER, ATTACK_CONTRACT, calls=body)))) == []
    # and a loan with a small outflow is nothing
    small = call(
        LENDING, USD, "transfer(address,uint256)", logs=[transfer_log(USD, LENDING, USER, 10_000 * E18)]
    )
    assert (
        list(det(view, event(_loan([call(ATTACK_CONTRACT, LENDING, "redeem(uint256)", calls=[small])]))))
        == []
    )
    assert replace(view.state, holdings={}).holdings == {}
