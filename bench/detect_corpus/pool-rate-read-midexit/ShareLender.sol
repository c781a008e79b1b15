// SPDX-License-Identifier: MIT
pragma solidity ^0.8.26;

import {Token} from "../_shared/Token.sol";

interface IStakePool {
    function getRate() external view returns (uint256);
    function transferFrom(address from, address to, uint256 shares) external returns (bool);
    function transfer(address to, uint256 shares) external returns (bool);
}

/// @title ShareLender
/// @notice Lends dollars against pool shares, valued at the pool's rate and a fixed ether price.
contract ShareLender {
    IStakePool public immutable pool;
    Token public immutable usd;
    uint256 public constant ETH_PRICE = 2000; // dollars per ether
    uint256 public constant LTV_BPS = 7000;

    mapping(address => uint256) public collateral;
    mapping(address => uint256) public debt;

    constructor(IStakePool pool_, Token usd_) {
        pool = pool_;
        usd = usd_;
    }

    function deposit(uint256 shares) external {
        require(pool.transferFrom(msg.sender, address(this), shares), "pull");
        collateral[msg.sender] += shares;
    }

    function borrow(uint256 amount) external {
        debt[msg.sender] += amount;
        require(debt[msg.sender] <= maxDebt(msg.sender), "undercollateralised");
        require(usd.transfer(msg.sender, amount), "push");
    }

    function repay(uint256 amount) external {
        require(usd.transferFrom(msg.sender, address(this), amount), "pull");
        debt[msg.sender] -= amount;
    }

    function maxDebt(address account) public view returns (uint256) {
        uint256 value = (collateral[account] * pool.getRate()) / 1e18;
        return (value * ETH_PRICE * LTV_BPS) / 10_000;
    }
}
