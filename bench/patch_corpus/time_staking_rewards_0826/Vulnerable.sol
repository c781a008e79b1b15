pragma solidity 0.8.26;

/// Staking with a per-second reward stream paid from a funded pot. Rewards accrue on the staked
/// balance from the last checkpoint.
contract StreamStaking {
    uint256 public constant RATE_PER_SECOND = 1e12; // per ether staked, in wei

    address public immutable funder;
    mapping(address => uint256) public staked;
    mapping(address => uint256) public checkpoint;
    mapping(address => uint256) public accrued;
    uint256 public totalStaked;

    constructor() payable {
        funder = msg.sender;
    }

    function _accrue(address who) internal {
        uint256 last = checkpoint[who];
        if (last != 0) {
            accrued[who] += (staked[who] * (block.timestamp - last) * RATE_PER_SECOND) / 1 ether;
        }
        checkpoint[who] = block.timestamp;
    }

    function stake() external payable {
        _accrue(msg.sender);
        staked[msg.sender] += msg.value;
        totalStaked += msg.value;
    }

    function unstake(uint256 amount) external {
        require(staked[msg.sender] >= amount, "staked");
        _accrue(msg.sender);
        staked[msg.sender] -= amount;
        totalStaked -= amount;
        payable(msg.sender).transfer(amount);
    }

    function claim() external {
        _accrue(msg.sender);
        uint256 amount = accrued[msg.sender];
        require(amount > 0, "nothing");
        accrued[msg.sender] = 0;
        payable(msg.sender).transfer(amount);
    }

    function fund() external payable {}
}
