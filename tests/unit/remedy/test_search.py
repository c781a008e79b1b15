"""Candidates from the catalogue, ordered by size, and the search loop."""

from __future__ import annotations

import asyncio

from bulwark.domain.remedy import ParameterRemedy, RemedyAttempt, Setter, SetterParam
from bulwark.remedy.search import candidates, encode_setter, search

LENDING = "0x" + "11" * 20
FLASH = "0x" + "22" * 20
RISK = Setter(
    component="lending",
    contract="LendingMarket",
    function="setRiskParams",
    signature="setRiskParams(uint256,uint256,uint256,uint256)",
    params=(
        SetterParam("ltv", "uint256", "ltvBps"),
        SetterParam("threshold", "uint256", "liquidationThresholdBps"),
        SetterParam("bonus", "uint256", "liquidationBonusBps"),
        SetterParam("closeFactor", "uint256", "closeFactorBps"),
    ),
    guard="role:DEFAULT_ADMIN_ROLE",
    writes=("ltvBps",),
    classes=("oracle-manipulation",),
)
FEE = Setter(
    component="flash",
    contract="FlashLender",
    function="setFee",
    signature="setFee(uint256)",
    params=(SetterParam("feeBps_", "uint256", "feeBps"),),
    guard="role:DEFAULT_ADMIN_ROLE",
    writes=("feeBps",),
    classes=("oracle-manipulation",),
)
KEEPER_ONLY = Setter(
    component="oracle",
    contract="PriceOracle",
    function="setMaxDeviation",
    signature="setMaxDeviation(uint256)",
    params=(SetterParam("maxDeviation", "uint256", "maxDeviation"),),
    guard="role:ORACLE_ROLE",
    writes=("maxDeviation",),
    classes=("oracle-manipulation",),
)
CURRENT = {
    ("lending", "ltvBps"): 7500,
    ("lending", "liquidationThresholdBps"): 8000,
    ("lending", "liquidationBonusBps"): 500,
    ("lending", "closeFactorBps"): 5000,
    ("flash", "feeBps"): 9,
    ("oracle", "maxDeviation"): 500,
}
TARGETS = {"lending": LENDING, "flash": FLASH, "oracle": "0x" + "33" * 20}


def test_candidates_are_ordered_from_the_least_drastic_and_keep_other_arguments() -> None:
    out = candidates([RISK, FEE, KEEPER_ONLY], "oracle-manipulation", CURRENT, TARGETS)
    assert [r.strategy for r in out] == ["halve:ltv", "raise:feeBps_", "min:ltv", "zero:ltv"]
    halve = out[0].calls[0]
    assert halve.args == (3750, 8000, 500, 5000) and halve.target == LENDING
    assert halve.data == encode_setter(RISK, [3750, 8000, 500, 5000])
    assert halve.changes == (("ltv", "7500", "3750"),)
    # the oracle's setter needs a role the admin does not hold: never proposed
    assert all(c.component != "oracle" for r in out for c in r.calls)


def test_no_candidates_for_another_class_or_unknown_current_values() -> None:
    assert candidates([RISK, FEE], "reentrancy", CURRENT, TARGETS) == []
    partial = {k: v for k, v in CURRENT.items() if k[1] != "closeFactorBps"}
    assert [r.strategy for r in candidates([RISK], "oracle-manipulation", partial, TARGETS)] == []


def test_address_setters_use_declared_alternatives() -> None:
    oracle = Setter(
        "lending",
        "LendingMarket",
        "setOracle",
        "setOracle(address)",
        (SetterParam("oracle_", "address", "oracle"),),
        "role:DEFAULT_ADMIN_ROLE",
        ("oracle",),
        ("oracle-manipulation",),
    )
    keeper = "0x" + "44" * 20
    current = {("lending", "oracle"): "0x" + "55" * 20}
    assert candidates([oracle], "oracle-manipulation", current, TARGETS) == []
    out = candidates(
        [oracle], "oracle-manipulation", current, TARGETS, alternatives={"lending.setOracle": [keeper]}
    )
    assert [r.calls[0].args for r in out] == [(keeper,)]


def test_search_returns_the_first_remedy_that_blocks_and_every_attempt() -> None:
    remedies = candidates([RISK, FEE], "oracle-manipulation", CURRENT, TARGETS)
    seen: list[str] = []

    async def check(remedy: ParameterRemedy) -> RemedyAttempt:
        seen.append(remedy.strategy)
        blocked = remedy.strategy == "min:ltv"
        return RemedyAttempt(remedy, blocked, () if blocked else ("attack-not-blocked",))

    chosen, attempts = asyncio.run(search(remedies, check))
    assert chosen is not None and chosen.strategy == "min:ltv"
    assert seen == ["halve:ltv", "raise:feeBps_", "min:ltv"]  # zero:ltv never tried
    assert [a.blocked for a in attempts] == [False, False, True]

    async def never(remedy: ParameterRemedy) -> RemedyAttempt:
        return RemedyAttempt(remedy, False, ("still drains",))

    chosen, attempts = asyncio.run(search(remedies, never, max_tries=2))
    assert chosen is None and len(attempts) == 2
