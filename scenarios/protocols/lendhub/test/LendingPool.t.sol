// SPDX-License-Identifier: MIT
pragma solidity ^0.8.20;

import {IAccessControl} from "@openzeppelin/contracts/access/IAccessControl.sol";
import {ProxyAdmin} from "@openzeppelin/contracts/proxy/transparent/ProxyAdmin.sol";
import {ITransparentUpgradeableProxy} from "@openzeppelin/contracts/proxy/transparent/TransparentUpgradeableProxy.sol";
import {PausableUpgradeable} from "@openzeppelin/contracts-upgradeable/utils/PausableUpgradeable.sol";
import {LendingPool} from "src/LendingPool.sol";
import {LendHubTest} from "test/utils/LendHubTest.sol";

contract LendingPoolTest is LendHubTest {
    function setUp() public override {
        super.setUp();
        vm.deal(alice, 100 ether);
        vm.deal(bob, 100 ether);
        _fund(alice, 10_000 * E18);
        vm.prank(alice);
        usd.approve(address(pool), type(uint256).max);
    }

    function testSupplyAndRedeemAtPar() public {
        _fund(bob, 5_000 * E18);
        vm.startPrank(bob);
        usd.approve(address(pool), type(uint256).max);
        uint256 shares = pool.supply(5_000 * E18);
        uint256 out = pool.redeem(shares);
        vm.stopPrank();
        require(out == 5_000 * E18, "redeem at par without borrows");
        require(usd.balanceOf(bob) == 5_000 * E18, "bob got his money back");
    }

    function testBorrowWithinLimitAndRepay() public {
        vm.startPrank(alice);
        pool.depositCollateral{value: 10 ether}();
        require(pool.borrowLimit(10 ether) == 15_000 * E18, "75% of 20,000");
        pool.borrow(15_000 * E18);
        require(pool.debtOf(alice) == 15_000 * E18, "debt recorded");
        pool.repay(alice, type(uint256).max);
        pool.withdrawCollateral(10 ether);
        vm.stopPrank();
        require(pool.debtOf(alice) == 0 && pool.collateralOf(alice) == 0, "position closed");
        require(alice.balance == 100 ether, "collateral returned");
        require(pool.cash() == 1_000_000 * E18, "cash back in the pool");
    }

    function testBorrowAboveLimitReverts() public {
        vm.startPrank(alice);
        pool.depositCollateral{value: 1 ether}();
        vm.expectRevert(abi.encodeWithSelector(LendingPool.Undercollateralized.selector, 1_501 * E18, 1_500 * E18));
        pool.borrow(1_501 * E18);
        vm.stopPrank();
    }

    function testCollateralBackingDebtCannotBeWithdrawn() public {
        vm.startPrank(alice);
        pool.depositCollateral{value: 2 ether}();
        pool.borrow(1_500 * E18);
        vm.expectRevert(abi.encodeWithSelector(LendingPool.Undercollateralized.selector, 1_500 * E18, 1_500 * E18 / 2));
        pool.withdrawCollateral(1.5 ether);
        pool.withdrawCollateral(1 ether);
        vm.stopPrank();
        require(pool.collateralOf(alice) == 1 ether, "half the collateral left");
        require(pool.totalCollateral() == 1 ether, "total follows");
    }

    function testInterestAccruesToLenders() public {
        vm.startPrank(alice);
        pool.depositCollateral{value: 50 ether}();
        pool.borrow(50_000 * E18);
        vm.stopPrank();
        vm.warp(block.timestamp + 365 days);
        feed.setAnswer(2_000e8);
        uint256 debt = pool.debtOf(alice);
        pool.accrueInterest();
        debt = pool.debtOf(alice);
        require(_approx(debt, 52_500 * E18, 10 * E18), "about 5% a year");
        uint256 lenderValue = pool.previewRedeem(pool.supplySharesOf(lender));
        require(_approx(lenderValue, 1_002_500 * E18, 10 * E18), "interest goes to the lender");
    }

    function testLiquidationAfterPriceDrop() public {
        vm.startPrank(alice);
        pool.depositCollateral{value: 10 ether}();
        pool.borrow(15_000 * E18);
        vm.stopPrank();
        _fund(liquidator, 10_000 * E18);
        vm.prank(liquidator);
        usd.approve(address(pool), type(uint256).max);
        vm.prank(liquidator);
        vm.expectRevert(abi.encodeWithSelector(LendingPool.PositionHealthy.selector, alice));
        pool.liquidate(alice, 1_000 * E18);

        feed.setAnswer(1_500e8);
        vm.prank(liquidator);
        uint256 seized = pool.liquidate(alice, 6_000 * E18);
        require(seized == 4.2 ether, "6,000 USD plus a 5% bonus at 1,500");
        require(liquidator.balance == 4.2 ether, "liquidator paid in ETH");
        require(pool.debtOf(alice) == 9_000 * E18, "debt reduced");
        require(pool.collateralOf(alice) == 5.8 ether, "collateral reduced");
    }

    function testStalePriceStopsBorrowing() public {
        vm.startPrank(alice);
        pool.depositCollateral{value: 1 ether}();
        vm.warp(block.timestamp + 2 days);
        vm.expectRevert();
        pool.borrow(100 * E18);
        vm.stopPrank();
    }

    function testPauserPausesAndOnlyGovernanceUnpauses() public {
        bytes32 pauserRole = pool.PAUSER_ROLE();
        vm.prank(alice);
        vm.expectRevert(abi.encodeWithSelector(IAccessControl.AccessControlUnauthorizedAccount.selector, alice, pauserRole));
        pool.pause();
        vm.prank(pauser);
        pool.pause();
        vm.prank(alice);
        vm.expectRevert(PausableUpgradeable.EnforcedPause.selector);
        pool.depositCollateral{value: 1 ether}();
        vm.prank(pauser);
        vm.expectRevert(
            abi.encodeWithSelector(IAccessControl.AccessControlUnauthorizedAccount.selector, pauser, bytes32(0))
        );
        pool.unpause();
        pool.unpause();
        vm.prank(alice);
        pool.depositCollateral{value: 1 ether}();
    }

    function testGovernanceUpgradesThroughProxyAdmin() public {
        ProxyAdmin admin = ProxyAdmin(_proxyAdmin(address(pool)));
        require(admin.owner() == governance, "ProxyAdmin belongs to governance");
        LendingPool next = new LendingPool();
        vm.prank(alice);
        vm.expectRevert();
        admin.upgradeAndCall(ITransparentUpgradeableProxy(address(pool)), address(next), "");
        admin.upgradeAndCall(ITransparentUpgradeableProxy(address(pool)), address(next), "");
        require(pool.cash() == 1_000_000 * E18, "state survives the upgrade");
        require(pool.supplySharesOf(lender) == 1_000_000 * E18, "shares survive the upgrade");
    }

    function testGovernanceSetsRiskParameters() public {
        pool.setRiskParameters(5_000, 800, RATE);
        require(pool.borrowLimit(1 ether) == 1_000 * E18, "50% of 2,000");
        vm.prank(alice);
        vm.expectRevert();
        pool.setRiskParameters(9_000, 500, RATE);
        vm.expectRevert(LendingPool.InvalidParameter.selector);
        pool.setRiskParameters(9_600, 500, RATE);
    }
}
