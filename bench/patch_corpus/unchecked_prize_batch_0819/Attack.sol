pragma solidity 0.8.19;

/// A team's prize vault that books every receipt (needs more gas than the send stipend).
contract TeamVault {
    uint256 public total;
    uint256 public count;

    receive() external payable {
        total += msg.value;
        count += 1;
    }
}
