"""Deploy smoke test: every component of the seeded demo protocol does its job."""

from __future__ import annotations

import pytest
from tests.e2e.protocol.conftest import ProtocolEnv

from bulwark.chain import CallReverted
from bulwark.scenarios.deploy import E18, SeedPlan, fund

pytestmark = pytest.mark.e2e

BORROWER_SOURCE = """// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.26;
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {IERC3156FlashBorrower} from "@openzeppelin/contracts/interfaces/IERC3156FlashBorrower.sol";
import {IERC3156FlashLender} from "@openzeppelin/contracts/interfaces/IERC3156FlashLender.sol";
contract TestFlashBorrower is IERC3156FlashBorrower {
    uint256 public seen;
    bool public repay = true;
    function setRepay(bool r) external { repay = r; }
    function borrow(IERC3156FlashLender lender, address token, uint256 amount) external {
        lender.flashLoan(this, token, amount, "");
    }
    function onFlashLoan(address, address token, uint256 amount, uint256 fee, bytes calldata)
        external returns (bytes32)
    {
        seen = IERC20(token).balanceOf(address(this));
        if (repay) IERC20(token).approve(msg.sender, amount + fee);
        return keccak256("ERC3156FlashBorrower.onFlashLoan");
    }
}
"""


def test_deployment_is_seeded_and_fast(env: ProtocolEnv) -> None:
    p, plan = env.protocol, SeedPlan()
    assert env.call("pool", "getReserves") == (plan.pool_weth, plan.pool_usd)
    assert env.call("pool", "spotPrice", p.address("weth")) == 2_000 * E18
    assert env.call("oracle", "price", p.address("weth")) == plan.eth_price
    assert env.call("lending", "availableLiquidity") == plan.lending_usd - plan.borrower_debt
    assert env.call("flash", "maxFlashLoan", p.address("usd")) == plan.flash_usd
    assert env.call("vault", "totalAssets") == sum(plan.vault_deposits)
    assert env.call("safe", "getThreshold") == 2
    owners = {o.lower() for o in env.call("safe", "getOwners")}
    assert owners == {o.address.lower() for o in p.safe_owners}
    assert p.deploy_seconds < 30  # measured ~1-2 s warm; the bound only catches a pathology


def test_vault_deposit_and_withdraw(env: ProtocolEnv) -> None:
    p = env.protocol
    user = p.users[2]
    usd_before = env.call("usd", "balanceOf", user.address)
    env.send(user, "usd", "approve", p.address("vault"), 1_000 * E18)
    env.send(user, "vault", "deposit", 1_000 * E18, user.address)
    assert env.call("usd", "balanceOf", user.address) == usd_before - 1_000 * E18
    shares = env.call("vault", "balanceOf", user.address)
    assert env.call("vault", "convertToAssets", shares) == pytest.approx(41_000 * E18, rel=1e-12)
    env.send(user, "vault", "withdraw", 500 * E18, user.address, user.address)
    env.send(
        user, "vault", "redeem", env.call("vault", "balanceOf", user.address), user.address, user.address
    )
    assert env.call("vault", "balanceOf", user.address) == 0
    assert env.call("usd", "balanceOf", user.address) >= usd_before + 40_000 * E18 - 2
    with pytest.raises(CallReverted, match="ERC4626ExceededMaxWithdraw"):
        env.send(user, "vault", "withdraw", 1, user.address, user.address)


def test_lending_supply_borrow_repay_and_liquidate_after_a_price_drop(env: ProtocolEnv) -> None:
    p = env.protocol
    lender, borrower, liquidator = p.users[1], p.users[2], p.spare[0]
    env.send(lender, "usd", "approve", p.address("lending"), 50_000 * E18)
    env.send(lender, "lending", "supply", 50_000 * E18)
    env.send(lender, "lending", "withdrawSupply", 10_000 * E18)
    assert env.call("lending", "suppliedOf", lender.address) == 40_000 * E18

    env.send(borrower, "weth", "approve", p.address("lending"), 10 * E18)
    env.send(borrower, "lending", "depositCollateral", 10 * E18)  # worth 20,000 usd
    with pytest.raises(CallReverted, match="BorrowLimitExceeded"):
        env.send(borrower, "lending", "borrow", 15_001 * E18)  # LTV 75%
    env.send(borrower, "lending", "borrow", 15_000 * E18)
    env.send(borrower, "usd", "approve", p.address("lending"), 10**30)
    env.send(borrower, "lending", "repay", 1_000 * E18)
    assert env.call("lending", "debtOf", borrower.address) == 14_000 * E18
    with pytest.raises(CallReverted, match="Unhealthy"):
        env.send(borrower, "lending", "withdrawCollateral", 2 * E18)
    with pytest.raises(CallReverted, match="Healthy"):
        env.send(liquidator, "lending", "liquidate", borrower.address, E18)

    # ETH falls to 1,600: 10 * 1,600 * 0.8 = 12,800 < 14,000 -> liquidatable.
    env.send(p.feeder, "oracle", "setPrice", p.address("weth"), 1_600 * E18)
    hf_before = env.call("lending", "healthFactor", borrower.address)
    assert hf_before < E18
    env.run(fund(env.client, p, liquidator.address, usd=20_000 * E18))
    env.send(liquidator, "usd", "approve", p.address("lending"), 10**30)
    env.send(liquidator, "lending", "liquidate", borrower.address, 20_000 * E18)  # capped at 50%
    assert env.call("lending", "debtOf", borrower.address) == 7_000 * E18
    seized = 7_000 * E18 * E18 // (1_600 * E18) * 10_500 // 10_000
    assert env.call("weth", "balanceOf", liquidator.address) == seized
    assert env.call("lending", "collateralOf", borrower.address) == 10 * E18 - seized
    # Half the debt repaid at a 5% bonus: healthier, still below 1, so liquidatable again.
    assert hf_before < env.call("lending", "healthFactor", borrower.address) < E18
    env.send(liquidator, "lending", "liquidate", borrower.address, 20_000 * E18)
    assert env.call("lending", "debtOf", borrower.address) == 3_500 * E18


def test_swap_moves_spot_and_twap_lags(env: ProtocolEnv) -> None:
    p = env.protocol
    trader = p.users[1]
    weth, usd = p.address("weth"), p.address("usd")
    env.increase_time(600)
    env.send(trader, "weth", "approve", p.address("pool"), 10 * E18)
    expected = env.call("pool", "getAmountOut", 10 * E18, 1_000 * E18, 2_000_000 * E18)
    usd_before = env.call("usd", "balanceOf", trader.address)
    with pytest.raises(CallReverted, match="InsufficientOutput"):
        env.send(trader, "pool", "swap", weth, 10 * E18, expected + 1, trader.address)
    env.send(trader, "pool", "swap", weth, 10 * E18, expected, trader.address)
    assert env.call("usd", "balanceOf", trader.address) == usd_before + expected
    assert expected < 10 * 2_000 * E18 * 997 // 1000  # fee and price impact
    spot = env.call("pool", "spotPrice", weth)
    assert spot < 2_000 * E18 * 99 // 100
    # The TWAP over the last 10 minutes still sits at the pre-swap price.
    env.increase_time(1)
    twap = env.call("pool", "twap", weth, 300)
    assert abs(twap - 2_000 * E18) < 2_000 * E18 // 100
    assert env.call("pool", "twap", usd, 300) > 0
    with pytest.raises(CallReverted, match="InsufficientHistory"):
        env.call("pool", "twap", weth, 10**6)

    # Liquidity in and out at the current ratio.
    env.send(trader, "weth", "approve", p.address("pool"), E18)
    env.send(trader, "usd", "approve", p.address("pool"), 10_000 * E18)
    env.send(trader, "pool", "addLiquidity", E18, 10_000 * E18, trader.address)
    lp = env.call("pool", "balanceOf", trader.address)
    assert lp > 0
    env.send(trader, "pool", "removeLiquidity", lp, trader.address)
    assert env.call("pool", "balanceOf", trader.address) == 0


def test_flash_loan_is_repaid_with_fee(env: ProtocolEnv) -> None:
    p = env.protocol
    art = env.compiler.compile_sources({"TestFlashBorrower.sol": BORROWER_SOURCE}).contract(
        "TestFlashBorrower"
    )
    # The borrower's ABI plus the lender's and token's errors, so reverts bubbling up from the lender decode.
    abi = [*art.abi, *(e for n in ("flash", "usd") for e in p.abi(n) if e["type"] == "error")]
    user = p.users[1]
    borrower = env.run(env.client.deploy(art.abi, art.bytecode, sender=user.address))
    usd = p.address("usd")
    amount = 100_000 * E18
    fee = env.call("flash", "flashFee", usd, amount)
    assert fee == amount * 9 // 10_000
    env.run(fund(env.client, p, borrower, usd=fee))
    liquidity = env.call("flash", "maxFlashLoan", usd)
    env.run(env.ops.transact(user, borrower, abi, "borrow", p.address("flash"), usd, amount))
    assert env.run(env.ops.call(borrower, abi, "seen")) == amount + fee
    assert env.call("flash", "maxFlashLoan", usd) == liquidity + fee
    assert env.call("flash", "balanceOf", usd, p.deployer.address) == liquidity + fee  # sole lender earns it
    with pytest.raises(CallReverted, match="ExceedsMaxFlashLoan"):
        env.run(env.ops.transact(user, borrower, abi, "borrow", p.address("flash"), usd, liquidity + fee + 1))

    # A borrower that does not pay back makes the whole loan revert.
    env.run(env.ops.transact(user, borrower, abi, "setRepay", False))
    with pytest.raises(CallReverted, match="ERC20InsufficientAllowance"):
        env.run(env.ops.transact(user, borrower, abi, "borrow", p.address("flash"), usd, amount))

    # Lenders withdraw principal plus fees.
    env.send(p.deployer, "flash", "withdraw", usd, liquidity + fee)
    assert env.call("flash", "maxFlashLoan", usd) == 0
