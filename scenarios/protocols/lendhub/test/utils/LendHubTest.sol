// SPDX-License-Identifier: MIT
pragma solidity ^0.8.20;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {TransparentUpgradeableProxy} from "@openzeppelin/contracts/proxy/transparent/TransparentUpgradeableProxy.sol";
import {LendingPool} from "src/LendingPool.sol";
import {SavingsVault} from "src/SavingsVault.sol";
import {ILendingPool} from "src/interfaces/ILendingPool.sol";
import {IPriceFeed} from "src/interfaces/IPriceFeed.sol";
import {MockERC20} from "src/mocks/MockERC20.sol";
import {MockPriceFeed} from "src/mocks/MockPriceFeed.sol";
import {Vm} from "test/utils/Vm.sol";

/// @notice Deploys the protocol the way production does: implementations behind transparent
///         proxies whose ProxyAdmin belongs to governance (here the test contract itself).
abstract contract LendHubTest {
    Vm internal constant vm = Vm(address(uint160(uint256(keccak256("hevm cheat code")))));
    bytes32 internal constant ADMIN_SLOT = 0xb53127684a568b3173ae13b9f8a6016e243e63b6e8ee1178d6a717850b5d6103;

    uint256 internal constant E18 = 1e18;
    uint256 internal constant RATE = 1585489599; // ~5% a year, per second

    address internal governance = address(this);
    address internal pauser = address(0xBEEF);
    address internal lender = address(0x1001);
    address internal alice = address(0x1002);
    address internal bob = address(0x1003);
    address internal liquidator = address(0x1004);

    MockERC20 internal usd;
    MockPriceFeed internal feed;
    LendingPool internal pool;
    SavingsVault internal vault;

    function setUp() public virtual {
        vm.warp(1_700_000_000);
        usd = new MockERC20("LendHub Test USD", "USDX", address(this));
        feed = new MockPriceFeed(8, 2_000e8, address(this));
        pool = LendingPool(_proxy(address(new LendingPool()), abi.encodeCall(
            LendingPool.initialize, (IERC20(address(usd)), IPriceFeed(address(feed)), governance, pauser, 7_500, 500, RATE)
        )));
        vault = SavingsVault(_proxy(address(new SavingsVault()), abi.encodeCall(
            SavingsVault.initialize,
            (IERC20(address(usd)), ILendingPool(address(pool)), governance, pauser, "LendHub Savings USD", "svUSD", 2_000, 10_000_000 * E18)
        )));
        _fund(lender, 1_000_000 * E18);
        vm.startPrank(lender);
        usd.approve(address(pool), type(uint256).max);
        pool.supply(1_000_000 * E18);
        vm.stopPrank();
    }

    function _proxy(address implementation, bytes memory init) internal returns (address) {
        return address(new TransparentUpgradeableProxy(implementation, governance, init));
    }

    function _proxyAdmin(address proxy) internal view returns (address) {
        return address(uint160(uint256(vm.load(proxy, ADMIN_SLOT))));
    }

    function _fund(address account, uint256 amount) internal {
        usd.mint(account, amount);
    }

    function _approx(uint256 a, uint256 b, uint256 tolerance) internal pure returns (bool) {
        return a > b ? a - b <= tolerance : b - a <= tolerance;
    }
}
