// SPDX-License-Identifier: MIT
pragma solidity 0.8.19;

/// An auction that refunds the previous bidder on every higher bid, and a keeper-run payout queue.
contract Bids {
    address public keeper;
    address payable public leader;
    uint256 public best;
    address payable[] public queue;
    uint256 public next;

    constructor() {
        keeper = msg.sender;
    }

    function bid() external payable {
        require(msg.value > best, "low");
        address payable previous = leader;
        uint256 refund = best;
        leader = payable(msg.sender);
        best = msg.value;
        if (previous != address(0)) {
            (bool ok, ) = previous.call{value: refund}("");
            require(ok, "refund failed");
        }
    }

    function enqueue() external payable {
        require(msg.value == 1 ether, "one ether");
        queue.push(payable(msg.sender));
    }

    function pay(uint256 count) external {
        require(msg.sender == keeper, "keeper");
        for (uint256 i = 0; i < count && next < queue.length; i++) {
            queue[next].transfer(1 ether);
            next += 1;
        }
    }
}
