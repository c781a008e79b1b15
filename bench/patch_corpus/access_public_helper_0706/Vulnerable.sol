pragma solidity 0.7.6;

/// Staking pool with a bonus on exit. The payout routine is shared by unstake() and the
/// operator's emergency exit.
contract BonusPool {
    address public operator;
    mapping(address => uint256) public stakeOf;
    uint256 public totalStaked;
    uint256 public bonusPot;

    constructor() payable {
        operator = msg.sender;
        bonusPot = msg.value;
    }

    function stake() external payable {
        require(msg.value >= 0.1 ether, "min");
        stakeOf[msg.sender] += msg.value;
        totalStaked += msg.value;
    }

    function unstake() external {
        uint256 amount = stakeOf[msg.sender];
        require(amount > 0, "none");
        stakeOf[msg.sender] = 0;
        totalStaked -= amount;
        uint256 bonus = amount / 50;
        if (bonus > bonusPot) bonus = bonusPot;
        bonusPot -= bonus;
        payout(msg.sender, amount + bonus);
    }

    function emergencyExit(address payable who) external {
        require(msg.sender == operator, "operator");
        uint256 amount = stakeOf[who];
        stakeOf[who] = 0;
        totalStaked -= amount;
        payout(who, amount);
    }

    function payout(address payable to, uint256 amount) public {
        (bool ok, ) = to.call{value: amount}("");
        require(ok, "payout failed");
    }
}
