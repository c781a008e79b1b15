// SPDX-License-Identifier: MIT
pragma solidity ^0.8.26;

import {Token} from "../_shared/Token.sol";

interface ISpot {
    function priceOfBase() external view returns (uint256);
}

/// @title Buyback
/// @notice The protocol's buyback programme: it buys governance tokens from holders at the market
///         price and burns them, up to a daily budget.
contract Buyback {
    Token public immutable gov;
    Token public immutable usd;
    ISpot public immutable market;
    uint256 public immutable dailyBudget;
    mapping(uint256 => uint256) public spentOn;

    event Bought(address indexed seller, uint256 govIn, uint256 usdOut);

    constructor(Token gov_, Token usd_, ISpot market_, uint256 dailyBudget_) {
        (gov, usd, market, dailyBudget) = (gov_, usd_, market_, dailyBudget_);
    }

    function sell(uint256 govAmount) external returns (uint256 paid) {
        paid = govAmount * market.priceOfBase() / 1e18;
        uint256 day = block.timestamp / 1 days;
        require(spentOn[day] + paid <= dailyBudget, "over budget today");
        spentOn[day] += paid;
        require(gov.transferFrom(msg.sender, address(0xdead), govAmount), "pull failed");
        require(usd.transfer(msg.sender, paid), "push failed");
        emit Bought(msg.sender, govAmount, paid);
    }
}
