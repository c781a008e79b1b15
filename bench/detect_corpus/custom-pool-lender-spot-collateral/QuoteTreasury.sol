// SPDX-License-Identifier: MIT
pragma solidity ^0.8.26;

import {Token} from "../_shared/Token.sol";

interface ITreasuryBorrower {
    function onAdvance(uint256 amount, bytes calldata data) external;
}

/// @title QuoteTreasury
/// @notice A market maker's treasury that advances quote tokens within one transaction, free.
contract QuoteTreasury {
    Token public immutable quote;

    constructor(Token quote_) {
        quote = quote_;
    }

    function advance(uint256 amount, bytes calldata data) external {
        uint256 before = quote.balanceOf(address(this));
        require(quote.transfer(msg.sender, amount), "push failed");
        ITreasuryBorrower(msg.sender).onAdvance(amount, data);
        require(quote.balanceOf(address(this)) >= before, "not paid back");
    }
}
