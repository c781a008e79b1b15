// SPDX-License-Identifier: MIT
pragma solidity ^0.8.26;

import {Token} from "../_shared/Token.sol";

/// @title ManagedVault
/// @notice Pools deposits that a keeper deploys into off-chain strategies. The vault's books track
///         what the strategies manage (`managed`), reported by the keeper; shares are internal.
contract ManagedVault {
    Token public immutable asset;
    address public keeper;
    uint256 public managed; // assets under management, idle + deployed, as last reported
    uint256 public totalShares;
    mapping(address => uint256) public sharesOf;

    event Deposit(address indexed who, uint256 assets, uint256 shares);
    event Redeem(address indexed who, uint256 assets, uint256 shares);
    event Report(int256 delta, uint256 managed);

    constructor(Token asset_) {
        asset = asset_;
        keeper = msg.sender;
    }

    /// @notice Assets per share, 18 decimals.
    function pricePerShare() external view returns (uint256) {
        return totalShares == 0 ? 1e18 : managed * 1e18 / totalShares;
    }

    function deposit(uint256 assets) external returns (uint256 shares) {
        shares = totalShares == 0 ? assets : assets * totalShares / managed;
        require(asset.transferFrom(msg.sender, address(this), assets), "pull");
        managed += assets;
        totalShares += shares;
        sharesOf[msg.sender] += shares;
        emit Deposit(msg.sender, assets, shares);
    }

    function redeem(uint256 shares) external returns (uint256 assets) {
        assets = shares * managed / totalShares;
        uint256 idle = asset.balanceOf(address(this));
        if (assets > idle) assets = idle; // deployed funds come back at the next rebalance
        sharesOf[msg.sender] -= shares;
        totalShares -= shares;
        managed -= assets;
        require(asset.transfer(msg.sender, assets), "push");
        emit Redeem(msg.sender, assets, shares);
    }

    /// @notice The keeper reports the strategies' gain or loss since the last report.
    function report(int256 delta) external {
        managed = delta >= 0 ? managed + uint256(delta) : managed - uint256(-delta);
        emit Report(delta, managed);
    }

    function setKeeper(address keeper_) external {
        require(msg.sender == keeper, "keeper");
        keeper = keeper_;
    }
}
