// SPDX-License-Identifier: MIT
pragma solidity ^0.8.26;

import {Token} from "../_shared/Token.sol";

/// @title YieldPot
/// @notice Pools deposits of one token; depositors own a share of everything the pot holds
///         (yield is paid in by the strategist). Shares are kept in the pot's own books.
contract YieldPot {
    Token public immutable asset;
    uint256 public totalShares;
    mapping(address => uint256) public sharesOf;

    event Deposit(address indexed who, uint256 amount, uint256 shares);
    event Withdraw(address indexed who, uint256 amount, uint256 shares);

    constructor(Token asset_) {
        asset = asset_;
    }

    /// @notice Assets per share, 18 decimals.
    function sharePrice() external view returns (uint256) {
        return totalShares == 0 ? 1e18 : asset.balanceOf(address(this)) * 1e18 / totalShares;
    }

    function deposit(uint256 amount) external returns (uint256 shares) {
        uint256 held = asset.balanceOf(address(this));
        shares = totalShares == 0 ? amount : amount * totalShares / held;
        require(asset.transferFrom(msg.sender, address(this), amount), "pull failed");
        totalShares += shares;
        sharesOf[msg.sender] += shares;
        emit Deposit(msg.sender, amount, shares);
    }

    function withdraw(uint256 shares) external returns (uint256 amount) {
        amount = shares * asset.balanceOf(address(this)) / totalShares;
        sharesOf[msg.sender] -= shares;
        totalShares -= shares;
        require(asset.transfer(msg.sender, amount), "push failed");
        emit Withdraw(msg.sender, amount, shares);
    }
}
