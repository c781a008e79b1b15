pragma solidity 0.5.17;

/// Savings jar: each deposit locks the saver's money for thirty days. A saver may still take money
/// out early by leaving a 10% penalty behind, which the keeper collects.
contract SavingsJar {
    address payable public keeper;
    mapping(address => uint256) public saved;
    mapping(address => uint256) public lockedUntil;
    uint256 public penalties;
    uint256 public constant TERM = 30 days;

    event Withdrawn(address saver, uint256 amount, uint256 penalty);

    constructor() public {
        keeper = msg.sender;
    }

    function deposit() external payable {
        require(msg.value > 0);
        saved[msg.sender] += msg.value;
        lockedUntil[msg.sender] = now + TERM;
    }

    function withdraw(uint256 amount) external {
        require(amount > 0 && saved[msg.sender] >= amount);
        if (now >= lockedUntil[msg.sender]) {
            saved[msg.sender] -= amount;
            msg.sender.transfer(amount);
            emit Withdrawn(msg.sender, amount, 0);
        } else {
            uint256 penalty = amount / 10;
            penalties += penalty;
            msg.sender.transfer(amount - penalty);
            emit Withdrawn(msg.sender, amount, penalty);
        }
    }

    function collectPenalties() external {
        require(msg.sender == keeper);
        uint256 amount = penalties;
        penalties = 0;
        keeper.transfer(amount);
    }
}
