pragma solidity 0.8.26;

/// Treasury module meant to be deployed as a clone and initialised by its factory in the same
/// transaction. The manager may pay out from it; members deposit into it.
contract TreasuryModule {
    address public manager;
    uint256 public dailyLimit;
    uint256 public spentToday;
    uint256 public dayStart;
    mapping(address => uint256) public contributed;

    event Initialized(address manager, uint256 dailyLimit);
    event Paid(address indexed to, uint256 amount);

    function initialize(address manager_, uint256 dailyLimit_) external {
        manager = manager_;
        dailyLimit = dailyLimit_;
        dayStart = block.timestamp;
        emit Initialized(manager_, dailyLimit_);
    }

    receive() external payable {
        contributed[msg.sender] += msg.value;
    }

    function pay(address payable to, uint256 amount) external {
        require(msg.sender == manager, "manager");
        if (block.timestamp >= dayStart + 1 days) {
            dayStart = block.timestamp;
            spentToday = 0;
        }
        require(spentToday + amount <= dailyLimit, "limit");
        spentToday += amount;
        emit Paid(to, amount);
        to.transfer(amount);
    }
}
