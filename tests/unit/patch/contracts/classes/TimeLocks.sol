pragma solidity 0.4.24;

/// A time guard named like a lock, and two real mutexes named like nothing in particular.
contract TimeGuarded {
    mapping(address => uint) public bal;
    mapping(address => uint) public unlockAt;

    modifier unlocked() {
        if (now < unlockAt[msg.sender]) throw;
        _;
    }

    function deposit(uint lockDays) public payable {
        bal[msg.sender] += msg.value;
        unlockAt[msg.sender] = now + lockDays * 1 days;
    }

    function collect(uint amount) public unlocked {
        if (bal[msg.sender] >= amount) {
            if (msg.sender.call.value(amount)()) {
                bal[msg.sender] -= amount;
            }
        }
    }
}

contract FlagGuarded {
    mapping(address => uint) public bal;
    bool private busy;

    modifier oneAtATime() {
        require(!busy);
        busy = true;
        _;
        busy = false;
    }

    function () public payable {}

    function withdraw(uint amount) public oneAtATime {
        if (msg.sender.call.value(amount)()) {
            bal[msg.sender] -= amount;
        }
    }
}

contract SlotGuarded {
    mapping(address => uint) public bal;

    modifier single() {
        enter();
        _;
        leave();
    }

    function enter() private {
        uint taken;
        assembly { taken := sload(0x1234) }
        require(taken == 0);
        assembly { sstore(0x1234, 1) }
    }

    function leave() private {
        assembly { sstore(0x1234, 0) }
    }

    function () public payable {}

    function withdraw(uint amount) public single {
        if (msg.sender.call.value(amount)()) {
            bal[msg.sender] -= amount;
        }
    }
}
