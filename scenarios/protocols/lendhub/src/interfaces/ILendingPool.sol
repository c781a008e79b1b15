// SPDX-License-Identifier: MIT
pragma solidity ^0.8.20;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";

/// @notice The supply side of a LendHub lending pool, as integrators use it.
interface ILendingPool {
    function asset() external view returns (IERC20);

    function supply(uint256 assets) external returns (uint256 shares);

    function redeem(uint256 shares) external returns (uint256 assets);

    function previewRedeem(uint256 shares) external view returns (uint256 assets);

    function supplySharesOf(address account) external view returns (uint256 shares);
}
