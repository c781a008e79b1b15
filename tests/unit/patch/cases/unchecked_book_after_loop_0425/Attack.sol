pragma solidity 0.4.25;

/// A co-operative's wallet that records each receipt (more than the 2300 gas a send forwards).
contract CoopWallet {
    uint256 public received;

    function () public payable {
        received += msg.value;
    }
}
