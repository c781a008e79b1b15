// SPDX-License-Identifier: MIT
pragma solidity ^0.8.20;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {IAccessControl} from "@openzeppelin/contracts/access/IAccessControl.sol";
import {PausableUpgradeable} from "@openzeppelin/contracts-upgradeable/utils/PausableUpgradeable.sol";
import {LendingPool} from "src/LendingPool.sol";
import {SavingsVault} from "src/SavingsVault.sol";
import {ILendingPool} from "src/interfaces/ILendingPool.sol";
import {IPriceFeed} from "src/interfaces/IPriceFeed.sol";
import {LendHubTest} from "test/utils/LendHubTest.sol";

contract SavingsVaultTest is LendHubTest {
    function setUp() public override {
        super.setUp();
        for (uint160 i = 0; i < 2; i++) {
            address user = i == 0 ? alice : bob;
            _fund(user, 100_000 * E18);
            vm.prank(user);
            usd.approve(address(vault), type(uint256).max);
        }
    }

    function testDepositLendsBeyondTheBuffer() public {
        vm.prank(alice);
        uint256 shares = vault.deposit(10_000 * E18, alice);
        require(shares == 10_000 * E18, "first deposit at par");
        require(vault.idle() == 2_000 * E18, "20% buffer kept liquid");
        require(vault.lent() == 8_000 * E18, "the rest is lent");
        require(vault.totalAssets() == 10_000 * E18, "nothing lost");
    }

    function testRedeemRecallsFromThePool() public {
        vm.prank(alice);
        vault.deposit(10_000 * E18, alice);
        vm.prank(alice);
        uint256 out = vault.redeem(7_000 * E18, alice);
        require(out == 7_000 * E18, "full value back");
        require(usd.balanceOf(alice) == 97_000 * E18, "alice paid");
        require(vault.totalAssets() == 3_000 * E18, "the rest stays");
    }

    function testYieldAccruesToShares() public {
        vm.prank(alice);
        vault.deposit(50_000 * E18, alice);
        vm.deal(bob, 1_000 ether);
        vm.startPrank(bob);
        pool.depositCollateral{value: 1_000 ether}();
        pool.borrow(500_000 * E18);
        vm.stopPrank();
        vm.warp(block.timestamp + 365 days);
        feed.setAnswer(2_000e8);
        require(vault.totalAssets() > 50_500 * E18, "the lent part earned interest");
        uint256 shares = vault.balanceOf(alice);
        vm.prank(alice);
        uint256 out = vault.redeem(shares, alice);
        require(out > 50_500 * E18, "alice earned it");
    }

    function testLaterDepositorsPayTheCurrentPrice() public {
        vm.prank(alice);
        vault.deposit(40_000 * E18, alice);
        vm.deal(bob, 1_000 ether);
        vm.startPrank(bob);
        pool.depositCollateral{value: 1_000 ether}();
        pool.borrow(800_000 * E18);
        vm.stopPrank();
        vm.warp(block.timestamp + 180 days);
        feed.setAnswer(2_000e8);
        vm.prank(bob);
        uint256 shares = vault.deposit(10_000 * E18, bob);
        require(shares < 10_000 * E18, "shares cost more than par after yield");
        require(_approx(vault.previewRedeem(shares), 10_000 * E18, 1e6), "and are worth what was paid");
    }

    function testDepositCap() public {
        vault.setParameters(2_000, 15_000 * E18);
        vm.prank(alice);
        vault.deposit(10_000 * E18, alice);
        vm.prank(bob);
        vm.expectRevert(abi.encodeWithSelector(SavingsVault.DepositCapExceeded.selector, 15_000 * E18, 16_000 * E18));
        vault.deposit(6_000 * E18, bob);
    }

    function testGovernanceMovesTheLendingPosition() public {
        vm.prank(alice);
        vault.deposit(10_000 * E18, alice);
        LendingPool next = LendingPool(_proxy(address(new LendingPool()), abi.encodeCall(
            LendingPool.initialize, (IERC20(address(usd)), IPriceFeed(address(feed)), governance, pauser, 7_500, 500, RATE)
        )));
        vault.setLendingPool(ILendingPool(address(next)));
        require(address(vault.lendingPool()) == address(next), "new pool");
        require(pool.supplySharesOf(address(vault)) == 0, "old position closed");
        require(vault.lent() == 8_000 * E18 && vault.idle() == 2_000 * E18, "re-lent through the new pool");
        require(vault.totalAssets() == 10_000 * E18, "nothing lost in the move");
    }

    function testPauserPausesDepositsAndWithdrawals() public {
        vm.prank(alice);
        vault.deposit(1_000 * E18, alice);
        bytes32 pauserRole = vault.PAUSER_ROLE();
        vm.prank(alice);
        vm.expectRevert(abi.encodeWithSelector(IAccessControl.AccessControlUnauthorizedAccount.selector, alice, pauserRole));
        vault.pause();
        vm.prank(pauser);
        vault.pause();
        vm.prank(alice);
        vm.expectRevert(PausableUpgradeable.EnforcedPause.selector);
        vault.redeem(1_000 * E18, alice);
        vault.unpause();
        vm.prank(alice);
        vault.redeem(1_000 * E18, alice);
    }
}
