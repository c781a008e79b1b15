// SPDX-License-Identifier: MIT
pragma solidity ^0.8.26;

import {Token} from "../_shared/Token.sol";

/// @title CreditEscrow
/// @notice Members park tokens as credit; a member may let a service (a subscription, a payroll
///         run) draw on its credit up to an allowance.
contract CreditEscrow {
    Token public immutable asset;
    address public treasurer;
    mapping(address => uint256) public creditOf;
    mapping(address => mapping(address => uint256)) public drawAllowance; // member => service => amount

    event Parked(address indexed member, uint256 amount);
    event Drawn(address indexed member, address indexed by, uint256 amount);

    constructor(Token asset_) {
        asset = asset_;
        treasurer = msg.sender;
    }

    function park(uint256 amount) external {
        require(asset.transferFrom(msg.sender, address(this), amount), "pull");
        creditOf[msg.sender] += amount;
        emit Parked(msg.sender, amount);
    }

    function allowDraw(address service, uint256 amount) external {
        drawAllowance[msg.sender][service] = amount;
    }

    function withdraw(uint256 amount) external {
        creditOf[msg.sender] -= amount;
        require(asset.transfer(msg.sender, amount), "push");
        emit Drawn(msg.sender, msg.sender, amount);
    }

    /// @notice A service draws `amount` of `member`'s credit, within the member's allowance.
    function drawFrom(address member, uint256 amount) external {
        uint256 allowed = drawAllowance[msg.sender][member];
        require(allowed >= amount, "allowance");
        drawAllowance[msg.sender][member] = allowed - amount;
        creditOf[member] -= amount;
        require(asset.transfer(msg.sender, amount), "push");
        emit Drawn(member, msg.sender, amount);
    }
}
