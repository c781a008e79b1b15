pragma solidity 0.8.26;

/// A merchant's receiving contract: accepts ether only from senders its owner has approved.
contract MerchantInbox {
    address private immutable owner;
    mapping(address => bool) public approved;

    constructor() {
        owner = msg.sender;
    }

    function approve(address from) external {
        require(msg.sender == owner);
        approved[from] = true;
    }

    receive() external payable {
        require(approved[msg.sender], "unknown sender");
    }
}
