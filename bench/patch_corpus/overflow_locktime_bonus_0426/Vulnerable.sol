pragma solidity 0.4.26;

/// Savings lock with a loyalty bonus: deposits are locked for a week and earn a 2% bonus from the
/// sponsor's reserve, credited at deposit; savers may extend their lock whenever they like.
contract LoyaltyLock {
    address public sponsor;
    uint256 public reserve;
    mapping(address => uint256) public balances;
    mapping(address => uint256) public lockTime;

    constructor() public payable {
        sponsor = msg.sender;
        reserve = msg.value;
    }

    function deposit() public payable {
        require(msg.value > 0);
        uint256 bonus = msg.value / 50;
        require(bonus <= reserve);
        reserve -= bonus;
        balances[msg.sender] += msg.value + bonus;
        lockTime[msg.sender] = now + 1 weeks;
    }

    function increaseLockTime(uint256 secondsToAdd) public {
        lockTime[msg.sender] += secondsToAdd;
    }

    function withdraw() public {
        require(balances[msg.sender] > 0);
        require(now > lockTime[msg.sender]);
        uint256 amount = balances[msg.sender];
        balances[msg.sender] = 0;
        msg.sender.transfer(amount);
    }
}
