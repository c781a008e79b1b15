"""Impact report and the verdict of a parameter remedy, from observations."""

from __future__ import annotations

from bulwark.domain.remedy import MetricKind, ParamCall, ParameterRemedy, RemedyKind
from bulwark.domain.verify import AttackReplay, BalanceChange, RegressionReport, TxDifference
from bulwark.remedy.impact import Observed, TxRun, impact_report
from bulwark.remedy.verify import remedy_verdict

CALL = ParamCall(
    "lending",
    "0x" + "11" * 20,
    "setRiskParams(uint256,uint256,uint256,uint256)",
    (1, 8000, 500, 5000),
    "0xd7376af3",
    (("ltv", "7500", "1"),),
)
REMEDY = ParameterRemedy(calls=(CALL,), rationale="test", strategy="min:ltv")
H = (MetricKind.PRICE, "oracle.price(weth)", "history")
L = (MetricKind.LIQUIDITY, "lending.availableLiquidity", "forward")
L2 = (MetricKind.LIQUIDITY, "pool.reserve(usd)", "forward")


def _observed(borrow_ok: bool, liquidity: int) -> Observed:
    return Observed(
        history=(
            TxRun("0xa", "0xuser1", "lending.borrow", borrow_ok),
            TxRun("0xb", "0xuser2", "pool.swap", True),
        ),
        forward=(TxRun("forward:supply#0", "benign users", "supply", True),),
        metrics={H: 2000, L: liquidity, L2: 100},
    )


def test_impact_lists_blocked_calls_and_the_largest_changes() -> None:
    report = impact_report(RemedyKind.PARAMETERS, REMEDY.label, _observed(True, 1000), _observed(False, 1200))
    assert report.benign_failed == 1
    assert report.blocked_users == ("0xuser1",) and report.blocked_functions == ("lending.borrow",)
    assert report.replayed == 2 and report.simulated == 1
    data = report.to_json()
    assert data["largest_liquidity_change"]["label"] == "lending.availableLiquidity"
    assert data["largest_liquidity_change"]["change_pct"] == 20.0
    assert data["largest_price_change"]["change_pct"] == 0.0
    assert "1 of 3 benign txs would have failed" in report.summary_text()


def test_impact_of_a_harmless_remedy_is_zero_failures() -> None:
    report = impact_report(RemedyKind.CODE, "upgrade", _observed(True, 1000), _observed(True, 1000))
    assert report.benign_failed == 0 and report.to_json()["blocked"] == []


def _attack(victim_delta: int) -> AttackReplay:
    usd = "0x" + "aa" * 20
    return AttackReplay(
        fork_block=10,
        install="parameters",
        txs=(),
        victims=("0x" + "11" * 20,),
        attackers=("0x" + "99" * 20,),
        assets=(usd,),
        changes=(),
        net=(
            BalanceChange("victims", usd, 1000, 1000 + victim_delta),
            BalanceChange("attackers", usd, 0, -victim_delta),
        ),
    )


def _verdict(delta: int, applied: bool = True):  # type: ignore[no-untyped-def]
    regression = RegressionReport(9, 2, (TxDifference("0xa", "status", "success", "revert"),))
    return remedy_verdict(
        REMEDY, chain_id=31337, admin="0x" + "77" * 20, attack=_attack(delta), attack_txs=("0xAT",),
        regression=regression, applied=applied,
    )  # fmt: skip


def test_a_remedy_that_stops_the_attack_passes_with_blocked_benign_txs_as_notes() -> None:
    verdict = _verdict(0)
    assert verdict.passed and verdict.attack_blocked
    assert [n.code for n in verdict.notes] == ["benign-tx-blocked"]
    assert verdict.evidence_hash == _verdict(0).evidence_hash  # stable
    assert verdict.evidence.document["remedy"]["calls"][0]["call"] == "setRiskParams(1, 8000, 500, 5000)"


def test_a_remedy_that_does_not_stop_the_attack_is_rejected_with_the_reason() -> None:
    verdict = _verdict(-500)
    assert not verdict.passed and verdict.attack_blocked is False
    (reason,) = verdict.reasons
    assert (
        reason.code == "attack-not-blocked" and "victims lost" in reason.message and "-500" in reason.message
    )
    assert verdict.evidence_hash != _verdict(0).evidence_hash


def test_calls_the_admin_cannot_make_fail_verification() -> None:
    verdict = _verdict(0, applied=False)
    assert not verdict.passed and any(r.code == "remedy-call-reverts" for r in verdict.reasons)
