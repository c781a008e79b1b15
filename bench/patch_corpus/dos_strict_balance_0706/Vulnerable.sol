pragma solidity 0.7.6;

/// Christmas club: members save through the year and take their savings out after the unlock date.
/// The books must always match the vault.
contract ChristmasClub {
    mapping(address => uint256) public saved;
    uint256 public totalSaved;
    uint256 public immutable unlockAt;

    constructor(uint256 lockSeconds) {
        unlockAt = block.timestamp + lockSeconds;
    }

    modifier balanced() {
        require(address(this).balance - msg.value == totalSaved, "books out of balance");
        _;
    }

    function save() external payable balanced {
        saved[msg.sender] += msg.value;
        totalSaved += msg.value;
    }

    function withdraw() external {
        require(block.timestamp >= unlockAt, "locked");
        require(address(this).balance == totalSaved, "books out of balance");
        uint256 amount = saved[msg.sender];
        saved[msg.sender] = 0;
        totalSaved -= amount;
        msg.sender.transfer(amount);
    }
}
