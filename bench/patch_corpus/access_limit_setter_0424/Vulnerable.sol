pragma solidity 0.4.24;

/// Family wallet: the parent funds it and gives each member a spending limit per 24 hours.
contract FamilyWallet {
    address public parent;
    mapping(address => uint256) public dailyLimit;
    mapping(address => uint256) public spentOn;
    mapping(address => uint256) public periodStart;

    event LimitSet(address indexed member, uint256 limit);
    event Spent(address indexed member, address to, uint256 amount);

    constructor() public payable {
        parent = msg.sender;
    }

    function () public payable {}

    modifier onlyParent() {
        require(msg.sender == parent);
        _;
    }

    function setLimit(address member, uint256 limit) public {
        dailyLimit[member] = limit;
        emit LimitSet(member, limit);
    }

    function removeMember(address member) public onlyParent {
        dailyLimit[member] = 0;
    }

    function spend(address to, uint256 amount) public {
        if (now >= periodStart[msg.sender] + 1 days) {
            periodStart[msg.sender] = now;
            spentOn[msg.sender] = 0;
        }
        require(spentOn[msg.sender] + amount <= dailyLimit[msg.sender]);
        spentOn[msg.sender] += amount;
        emit Spent(msg.sender, to, amount);
        to.transfer(amount);
    }
}
