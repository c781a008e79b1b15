// SPDX-License-Identifier: MIT
pragma solidity ^0.8.26;

import {Token} from "../_shared/Token.sol";

interface IPriceSource {
    function priceOfBase() external view returns (uint256);
}

/// @title CollateralDesk
/// @notice Borrow quote tokens against base-token collateral, up to half its value.
contract CollateralDesk {
    Token public immutable base;
    Token public immutable quote;
    IPriceSource public immutable prices;
    mapping(address => uint256) public collateralOf;
    mapping(address => uint256) public debtOf;

    constructor(Token base_, Token quote_, IPriceSource prices_) {
        base = base_;
        quote = quote_;
        prices = prices_;
    }

    function deposit(uint256 amount) external {
        require(base.transferFrom(msg.sender, address(this), amount), "pull failed");
        collateralOf[msg.sender] += amount;
    }

    function borrow(uint256 amount) external {
        uint256 value = collateralOf[msg.sender] * prices.priceOfBase() / 1e18;
        require((debtOf[msg.sender] + amount) * 2 <= value, "undercollateralised");
        debtOf[msg.sender] += amount;
        require(quote.transfer(msg.sender, amount), "push failed");
    }

    function repay(uint256 amount) external {
        require(quote.transferFrom(msg.sender, address(this), amount), "pull failed");
        debtOf[msg.sender] -= amount;
    }

    function withdraw(uint256 amount) external {
        collateralOf[msg.sender] -= amount;
        uint256 value = collateralOf[msg.sender] * prices.priceOfBase() / 1e18;
        require(debtOf[msg.sender] * 2 <= value, "undercollateralised");
        require(base.transfer(msg.sender, amount), "push failed");
    }
}
