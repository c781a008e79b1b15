pragma solidity 0.8.19;

interface IAuction {
    function bid() external payable;
}

/// Bids from a contract that takes no ether back.
contract Squatter {
    function bid(IAuction auction) external payable {
        auction.bid{value: msg.value}();
    }
}
