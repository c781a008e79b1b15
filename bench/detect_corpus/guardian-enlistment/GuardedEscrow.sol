// SPDX-License-Identifier: MIT
pragma solidity ^0.8.20;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";

/// @title GuardedEscrow
/// @notice Escrow released by a council of guardians; any guardian may enlist another.
contract GuardedEscrow {
    IERC20 public immutable asset;
    mapping(address => bool) public guardians;
    uint256 public guardianCount;

    event Enlisted(address indexed guardian);
    event Released(address indexed to, uint256 amount);

    constructor(IERC20 asset_, address firstGuardian) {
        asset = asset_;
        guardians[firstGuardian] = true;
    }

    /// @notice Adds a guardian. Bootstraps while the council is empty.
    function enlist(address guardian) external {
        require(guardians[msg.sender] || guardianCount == 0, "guardian only");
        guardians[guardian] = true;
        emit Enlisted(guardian);
    }

    /// @notice Releases escrowed funds.
    function release(address to, uint256 amount) external {
        require(guardians[msg.sender], "guardian only");
        asset.transfer(to, amount);
        emit Released(to, amount);
    }

    function lock(uint256 amount) external {
        asset.transferFrom(msg.sender, address(this), amount);
    }
}
