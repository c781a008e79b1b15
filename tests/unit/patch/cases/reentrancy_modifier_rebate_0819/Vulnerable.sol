pragma solidity 0.8.19;

/// Staking desk: stakers earn a 2% rebate on each stake; any rebate owed is paid before a
/// staker's next action.
contract RebateDesk {
    address public operator;
    mapping(address => uint256) public staked;
    mapping(address => uint256) public rebate;

    modifier paysRebate() {
        uint256 owed = rebate[msg.sender];
        if (owed > 0) {
            (bool ok, ) = msg.sender.call{value: owed}("");
            require(ok, "rebate");
            rebate[msg.sender] = 0;
        }
        _;
    }

    constructor() payable {
        operator = msg.sender;
    }

    receive() external payable {}

    function stake() external payable paysRebate {
        require(msg.value > 0, "nothing");
        staked[msg.sender] += msg.value;
        rebate[msg.sender] += msg.value / 50;
    }

    function unstake(uint256 amount) external paysRebate {
        require(staked[msg.sender] >= amount, "too much");
        staked[msg.sender] -= amount;
        payable(msg.sender).transfer(amount);
    }

    function collectRebate() external paysRebate {}
}
