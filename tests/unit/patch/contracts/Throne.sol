// SPDX-License-Identifier: MIT
pragma solidity 0.8.19;

contract Throne {
    address public king;
    uint256 public prize;
    address[] public members;
    mapping(address => uint256) public lastClaim;

    function claimThrone() external payable {
        require(msg.value > prize, "bid more");
        (bool ok, ) = king.call{value: msg.value}("");
        require(ok, "refund failed");
        king = msg.sender;
        prize = msg.value;
    }

    function join() external {
        members.push(msg.sender);
    }

    function share() external payable {
        for (uint256 i = 0; i < members.length; i++) {
            payable(members[i]).transfer(msg.value / members.length);
        }
    }

    function withdraw(uint256 amount) external {
        payable(msg.sender).transfer(amount);
    }

    function drip() external {
        require(block.timestamp >= lastClaim[msg.sender] + 1 hours, "wait");
        lastClaim[msg.sender] = block.timestamp;
    }
}
