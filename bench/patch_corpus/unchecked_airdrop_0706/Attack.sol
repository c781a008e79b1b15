pragma solidity 0.7.6;

/// A receiving contract that writes a ledger entry per payment (more than the 30000 gas the drop forwards).
contract Accountant {
    uint256[] public receipts;

    receive() external payable {
        receipts.push(msg.value);
        receipts.push(block.timestamp);
    }
}
