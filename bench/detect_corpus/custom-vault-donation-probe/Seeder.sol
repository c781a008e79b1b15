// SPDX-License-Identifier: MIT
pragma solidity ^0.8.26;

import {Token} from "../_shared/Token.sol";

interface IPot {
    function deposit(uint256 amount) external returns (uint256);
    function withdraw(uint256 shares) external returns (uint256);
}

contract Seeder {
    address immutable owner = msg.sender;

    function seed(Token t, IPot pot, uint256 donation) external {
        t.approve(address(pot), type(uint256).max);
        pot.deposit(1);
        t.transfer(address(pot), donation);
    }

    function collect(Token t, IPot pot) external {
        pot.withdraw(1);
        t.transfer(owner, t.balanceOf(address(this)));
    }
}
