"""A price from a pool's spot balances: localised (also through locals) and bounded per block."""

from __future__ import annotations

from bulwark.domain import VulnClass
from bulwark.patch import PatchRequest, generate, locate
from bulwark.toolchain.solc import Compiler

from .conftest import HERE, check_snapshot

SOURCE = HERE / "contracts" / "PoolPriced.sol"


def test_a_ratio_of_pool_balances_is_a_spot_price_but_own_holdings_are_not(compiler: Compiler) -> None:
    findings = [
        f
        for f in locate(PatchRequest(paths=[SOURCE], use_slither=False), compiler=compiler)
        if f.detector == "spot-balance-ratio"
    ]
    # rewardPrice reads one balance through a local, one inline; backing() reads the contract's own
    assert [(f.function, f.vuln_class, f.score) for f in findings] == [
        ("rewardPrice", VulnClass.ORACLE_MANIPULATION, 0.9)
    ]


def test_each_pool_balance_is_bounded_and_state_changing_readers_observe_first(compiler: Compiler) -> None:
    best = generate(PatchRequest(paths=[SOURCE], use_slither=False), compiler=compiler)[0]
    assert best.vuln_class is VulnClass.ORACLE_MANIPULATION
    assert best.template.startswith("oracle-steady-balances")
    text = best.patched_sources["contracts/PoolPriced.sol"]
    assert "uint256 wethInPool = _bulwarkSteady(address(weth), address(pool), weth.balanceOf(pool));" in text
    assert "/ _bulwarkSteady(address(reward), address(pool), reward.balanceOf(pool));" in text
    # cashOut reaches the price and records both balances first; earn does not read it
    assert text.count("_bulwarkSteadyObserve(address(weth), address(pool));") == 1
    assert text.count("_bulwarkSteadyObserve(address(reward), address(pool));") == 1
    assert "weth.balanceOf(address(this))" in text  # own holdings untouched
    assert 'require(!_bulwarkTradedThisBlock(bulwarkHolder), "Bulwark: pool traded this block' in text
    check_snapshot("oracle_steady_balances", best.diff)
