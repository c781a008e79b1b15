// SPDX-License-Identifier: MIT
pragma solidity 0.8.19;

/// A raffle that refunds every ticket when it is cancelled; refunds go through one helper.
contract Raffle {
    address public host;
    address[] public players;
    mapping(address => uint256) public paid;
    bool public cancelled;

    constructor() {
        host = msg.sender;
    }

    function buy() external payable {
        require(!cancelled, "cancelled");
        require(msg.value > 0, "empty");
        if (paid[msg.sender] == 0) players.push(msg.sender);
        paid[msg.sender] += msg.value;
    }

    function cancel() external {
        require(msg.sender == host, "host only");
        cancelled = true;
        for (uint256 i = 0; i < players.length; i++) {
            _refund(players[i]);
        }
    }

    function _refund(address player) private {
        uint256 amount = paid[player];
        paid[player] = 0;
        payable(player).call{value: amount}("");
    }
}
