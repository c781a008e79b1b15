// SPDX-License-Identifier: MIT
pragma solidity ^0.8.26;

import {Token} from "../_shared/Token.sol";

/// @title BalancePool
/// @notice A two-token pool. Trades are priced on the pool's balances (x * y = k, 0.3% fee);
///         `priceOfBase()` is the marginal price of the base token in quote, 18 decimals.
contract BalancePool {
    Token public immutable base;
    Token public immutable quote;
    address public immutable owner;

    event Swapped(address indexed trader, address tokenIn, uint256 amountIn, uint256 amountOut);

    constructor(Token base_, Token quote_) {
        base = base_;
        quote = quote_;
        owner = msg.sender;
    }

    function priceOfBase() external view returns (uint256) {
        return quote.balanceOf(address(this)) * 1e18 / base.balanceOf(address(this));
    }

    function amountOut(Token tokenIn, uint256 amountIn) public view returns (uint256) {
        (Token a, Token b) = tokenIn == base ? (base, quote) : (quote, base);
        uint256 x = a.balanceOf(address(this));
        uint256 y = b.balanceOf(address(this));
        uint256 inWithFee = amountIn * 997 / 1000;
        return y * inWithFee / (x + inWithFee);
    }

    /// @notice Sell `amountIn` of `tokenIn` (base or quote) for the other token.
    function swap(Token tokenIn, uint256 amountIn, uint256 minOut) external returns (uint256 out) {
        require(tokenIn == base || tokenIn == quote, "unknown token");
        out = amountOut(tokenIn, amountIn);
        require(out >= minOut, "slippage");
        Token tokenOut = tokenIn == base ? quote : base;
        require(tokenIn.transferFrom(msg.sender, address(this), amountIn), "pull failed");
        require(tokenOut.transfer(msg.sender, out), "push failed");
        emit Swapped(msg.sender, address(tokenIn), amountIn, out);
    }
}
