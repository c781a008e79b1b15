// SPDX-License-Identifier: MIT
pragma solidity ^0.8.26;

import {Token} from "../_shared/Token.sol";

interface IPool {
    function swap(Token tokenIn, uint256 amountIn, uint256 minOut) external returns (uint256);
}

interface IDesk {
    function deposit(uint256 amount) external;
    function borrow(uint256 amount) external;
}

interface ITreasury {
    function advance(uint256 amount, bytes calldata data) external;
}

/// A keeper that uses a treasury advance to nudge the pool and back (benign: no protocol call).
contract Rebalancer {
    Token immutable base;
    Token immutable quote;
    IPool immutable pool;
    ITreasury immutable treasury;

    constructor(Token base_, Token quote_, IPool pool_, ITreasury treasury_) {
        (base, quote, pool, treasury) = (base_, quote_, pool_, treasury_);
    }

    function run(uint256 amount, uint256 trade) external {
        treasury.advance(amount, abi.encode(trade));
    }

    function onAdvance(uint256 amount, bytes calldata data) external {
        uint256 trade = abi.decode(data, (uint256));
        quote.approve(address(pool), type(uint256).max);
        base.approve(address(pool), type(uint256).max);
        uint256 got = pool.swap(quote, trade, 0);
        pool.swap(base, got, 0);
        quote.transfer(address(treasury), amount);
    }
}

contract Lever {
    Token immutable base;
    Token immutable quote;
    IPool immutable pool;
    IDesk immutable desk;
    ITreasury immutable treasury;
    address immutable owner = msg.sender;

    constructor(Token base_, Token quote_, IPool pool_, IDesk desk_, ITreasury treasury_) {
        (base, quote, pool, desk, treasury) = (base_, quote_, pool_, desk_, treasury_);
    }

    function run(uint256 amount, uint256 take) external {
        treasury.advance(amount, abi.encode(take));
        quote.transfer(owner, quote.balanceOf(address(this)));
    }

    function onAdvance(uint256 amount, bytes calldata data) external {
        uint256 take = abi.decode(data, (uint256));
        quote.approve(address(pool), type(uint256).max);
        base.approve(address(desk), type(uint256).max);
        uint256 got = pool.swap(quote, amount, 0);
        desk.deposit(got);
        desk.borrow(take);
        quote.transfer(address(treasury), amount);
    }
}
