pragma solidity 0.4.24;

/// A staff member's team wallet that logs every receipt (needs more than the 2300-gas stipend).
contract TeamWallet {
    uint256 public received;

    function () public payable {
        received += msg.value;
    }
}
