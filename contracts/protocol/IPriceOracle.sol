// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.26;

interface IPriceOracle {
    /// @notice Value of 1e18 units of `asset` in USD with 18 decimals.
    function price(address asset) external view returns (uint256);
}
