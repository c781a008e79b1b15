// SPDX-License-Identifier: MIT
pragma solidity ^0.8.20;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";

/// @title PayoutDesk
/// @notice Pays contributors from a budget. Any approver may release a payout; approvers rotate
///         their keys themselves.
contract PayoutDesk {
    IERC20 public immutable asset;
    mapping(address => bool) public approvers;
    uint256 public approverCount;

    event Released(address indexed by, address indexed to, uint256 amount);
    event KeyRotated(address indexed oldKey, address indexed newKey);

    constructor(IERC20 asset_, address[] memory initial) {
        asset = asset_;
        for (uint256 i = 0; i < initial.length; i++) {
            approvers[initial[i]] = true;
        }
        approverCount = initial.length;
    }

    function release(address to, uint256 amount) external {
        require(approvers[msg.sender], "not approver");
        require(asset.transfer(to, amount), "push");
        emit Released(msg.sender, to, amount);
    }

    /// @notice Replaces an approver's key (e.g. after a device change).
    function rotateKey(address oldKey, address newKey) external {
        require(approvers[oldKey], "unknown key");
        require(!approvers[newKey], "already approver");
        approvers[oldKey] = false;
        approvers[newKey] = true;
        emit KeyRotated(oldKey, newKey);
    }
}
