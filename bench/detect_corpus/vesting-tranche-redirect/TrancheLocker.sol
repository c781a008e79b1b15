// SPDX-License-Identifier: MIT
pragma solidity ^0.8.20;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";

/// @title TrancheLocker
/// @notice Locks a grant and releases it in ten equal tranches, at most one per block.
contract TrancheLocker {
    IERC20 public immutable asset;
    address public immutable beneficiary;
    uint256 public immutable tranche;
    uint256 public lastReleaseBlock;
    uint256 public released;

    event TrancheReleased(address indexed to, uint256 amount);

    constructor(IERC20 asset_, address beneficiary_, uint256 total) {
        asset = asset_;
        beneficiary = beneficiary_;
        tranche = total / 10;
    }

    /// @notice Releases the next tranche to `to` (the beneficiary's chosen wallet).
    function releaseTo(address to) external {
        require(block.number > lastReleaseBlock, "one per block");
        lastReleaseBlock = block.number;
        released += tranche;
        asset.transfer(to, tranche);
        emit TrancheReleased(to, tranche);
    }

    /// @notice Top-ups from the grantor.
    function topUp(uint256 amount) external {
        asset.transferFrom(msg.sender, address(this), amount);
    }
}
