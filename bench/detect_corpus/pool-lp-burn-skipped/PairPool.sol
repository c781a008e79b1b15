// SPDX-License-Identifier: MIT
pragma solidity ^0.8.26;

import {Token} from "../_shared/Token.sol";

/// @title PairPool
/// @notice A two-token pool with a constant-sum-near-peg curve for stable pairs. Liquidity shares
///         are kept in the pool's own books.
contract PairPool {
    Token public immutable tokenA;
    Token public immutable tokenB;
    uint256 public totalLiquidity;
    mapping(address => uint256) public liquidityOf;
    uint256 public constant FEE_BPS = 4;

    event Swap(address indexed who, address tokenIn, uint256 amountIn, uint256 amountOut);
    event Liquidity(address indexed who, int256 shares);

    constructor(Token a, Token b) {
        tokenA = a;
        tokenB = b;
    }

    function reserves() public view returns (uint256, uint256) {
        return (tokenA.balanceOf(address(this)), tokenB.balanceOf(address(this)));
    }

    /// @notice Price of A in B, 18 decimals.
    function price() external view returns (uint256) {
        (uint256 a, uint256 b) = reserves();
        return b * 1e18 / a;
    }

    function addLiquidity(uint256 amountA, uint256 amountB) external returns (uint256 shares) {
        (uint256 a, uint256 b) = reserves();
        shares = totalLiquidity == 0 ? amountA + amountB : (amountA + amountB) * totalLiquidity / (a + b);
        require(tokenA.transferFrom(msg.sender, address(this), amountA), "pull A");
        require(tokenB.transferFrom(msg.sender, address(this), amountB), "pull B");
        totalLiquidity += shares;
        liquidityOf[msg.sender] += shares;
        emit Liquidity(msg.sender, int256(shares));
    }

    function removeLiquidity(uint256 shares) external returns (uint256 outA, uint256 outB) {
        require(liquidityOf[msg.sender] >= shares, "shares");
        (uint256 a, uint256 b) = reserves();
        outA = a * shares / totalLiquidity;
        outB = b * shares / totalLiquidity;
        totalLiquidity -= shares;
        require(tokenA.transfer(msg.sender, outA), "push A");
        require(tokenB.transfer(msg.sender, outB), "push B");
        emit Liquidity(msg.sender, -int256(shares));
    }

    /// @notice Swaps along the pool's curve: 1:1 near the peg, less as the pool becomes one-sided.
    function swap(address tokenIn, uint256 amountIn) external returns (uint256 amountOut) {
        bool aIn = tokenIn == address(tokenA);
        require(aIn || tokenIn == address(tokenB), "token");
        (uint256 a, uint256 b) = reserves();
        (uint256 rin, uint256 rout) = aIn ? (a, b) : (b, a);
        amountOut = amountIn * (10_000 - FEE_BPS) / 10_000 * rout / ((rin + rout) / 2);
        if (amountOut > amountIn) amountOut = amountIn;
        (Token tin, Token tout) = aIn ? (tokenA, tokenB) : (tokenB, tokenA);
        require(tin.transferFrom(msg.sender, address(this), amountIn), "pull");
        require(tout.transfer(msg.sender, amountOut), "push");
        emit Swap(msg.sender, tokenIn, amountIn, amountOut);
    }
}
