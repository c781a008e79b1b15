// SPDX-License-Identifier: MIT
pragma solidity ^0.8.26;

import {Token} from "../_shared/Token.sol";

interface IPool {
    function swap(Token tokenIn, uint256 amountIn, uint256 minOut) external returns (uint256);
}

interface IBuyback {
    function sell(uint256 govAmount) external returns (uint256);
}

interface ITreasury {
    function advance(uint256 amount, bytes calldata data) external;
}

contract Pumper {
    Token immutable gov;
    Token immutable usd;
    IPool immutable pool;
    IBuyback immutable buyback;
    ITreasury immutable treasury;
    address immutable owner = msg.sender;

    constructor(Token gov_, Token usd_, IPool pool_, IBuyback buyback_, ITreasury treasury_) {
        (gov, usd, pool, buyback, treasury) = (gov_, usd_, pool_, buyback_, treasury_);
    }

    function run(uint256 amount, uint256 toSell) external {
        treasury.advance(amount, abi.encode(toSell));
        usd.transfer(owner, usd.balanceOf(address(this)));
    }

    function onAdvance(uint256 amount, bytes calldata data) external {
        uint256 toSell = abi.decode(data, (uint256));
        usd.approve(address(pool), type(uint256).max);
        gov.approve(address(pool), type(uint256).max);
        gov.approve(address(buyback), type(uint256).max);
        uint256 got = pool.swap(usd, amount, 0);
        buyback.sell(toSell);
        pool.swap(gov, got - toSell, 0);
        usd.transfer(address(treasury), amount);
    }
}
