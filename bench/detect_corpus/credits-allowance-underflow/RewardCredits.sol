// SPDX-License-Identifier: MIT
pragma solidity ^0.8.20;

/// @title RewardCredits
/// @notice Loyalty credits kept in an internal ledger; gas-lean, so no events are emitted.
contract RewardCredits {
    address public issuer;
    uint256 public totalCredits;
    mapping(address => uint256) public creditOf;
    mapping(address => mapping(address => uint256)) public allowanceOf;

    constructor() {
        issuer = msg.sender;
    }

    function issue(address to, uint256 amount) external {
        require(msg.sender == issuer, "issuer");
        creditOf[to] += amount;
        totalCredits += amount;
    }

    function send(address to, uint256 amount) external {
        creditOf[msg.sender] -= amount;
        creditOf[to] += amount;
    }

    function allow(address spender, uint256 amount) external {
        allowanceOf[msg.sender][spender] = amount;
    }

    function sendFrom(address from, address to, uint256 amount) external {
        unchecked {
            allowanceOf[from][msg.sender] -= amount;
        }
        creditOf[from] -= amount;
        creditOf[to] += amount;
    }

    function redeem(uint256 amount) external {
        creditOf[msg.sender] -= amount;
        totalCredits -= amount;
    }
}
