// SPDX-License-Identifier: MIT
pragma solidity 0.7.6;

/// Members join a club (anyone, any number of times); the treasurer shares income among them.
/// The pot must match the books exactly before anyone withdraws.
contract Club {
    address public treasurer;
    address[] public members;
    mapping(address => uint256) public share;
    uint256 public booked;

    constructor() {
        treasurer = msg.sender;
    }

    function join() external {
        members.push(msg.sender);
    }

    function distribute() external payable {
        require(msg.sender == treasurer, "treasurer");
        for (uint256 i = 0; i < members.length; i++) {
            share[members[i]] += msg.value / members.length;
        }
        booked += msg.value;
    }

    function withdraw() external {
        require(address(this).balance == booked, "books");
        uint256 amount = share[msg.sender];
        share[msg.sender] = 0;
        booked -= amount;
        msg.sender.transfer(amount);
    }
}
