pragma solidity 0.4.24;

/// Savings box with a lock: each deposit may extend the depositor's lock by a number of days, and
/// nothing can be collected while the lock runs. Collections are logged for the books.
contract LockedSavings {
    mapping(address => uint) public balances;
    mapping(address => uint) public unlockAt;
    uint public collections;

    event Collected(address who, uint amount);

    modifier unlocked() {
        if (now < unlockAt[msg.sender]) throw;
        _;
    }

    function deposit(uint lockDays) public payable {
        if (msg.value < 0.1 ether) throw;
        balances[msg.sender] += msg.value;
        uint until = now + lockDays * 1 days;
        if (until > unlockAt[msg.sender]) unlockAt[msg.sender] = until;
    }

    function collect(uint _am) public unlocked {
        if (balances[msg.sender] >= _am) {
            if (msg.sender.call.value(_am)()) {
                balances[msg.sender] -= _am;
                collections++;
                emit Collected(msg.sender, _am);
            }
        }
    }
}
