// SPDX-License-Identifier: MIT
pragma solidity 0.8.19;

/// A vault whose keeper hands over in two steps: the keeper proposes, the successor takes over.
contract Handover {
    address public keeper;
    address public successor;

    constructor() {
        keeper = msg.sender;
    }

    function propose(address next) external {
        require(msg.sender == keeper, "keeper");
        successor = next;
    }

    function takeOver() external {
        require(successor != address(0), "none");
        keeper = msg.sender;
        successor = address(0);
    }

    function sweep(address payable to) external {
        require(msg.sender == keeper, "keeper");
        to.transfer(address(this).balance);
    }

    receive() external payable {}
}
