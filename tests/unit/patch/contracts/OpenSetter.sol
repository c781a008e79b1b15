// SPDX-License-Identifier: MIT
pragma solidity 0.8.26;

contract OpenSetter {
    address public owner;
    uint256 public fee;

    modifier onlyOwner() {
        require(msg.sender == owner, "not owner");
        _;
    }

    constructor() {
        owner = msg.sender;
    }

    function setFee(uint256 f) external onlyOwner {
        fee = f;
    }

    function resetFee() external {
        fee = 0;
    }
}
