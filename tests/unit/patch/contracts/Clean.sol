// SPDX-License-Identifier: MIT
pragma solidity 0.8.19;

contract Clean {
    uint256 public count;

    function bump() external {
        count += 1;
    }
}
