pragma solidity 0.4.26;

/// Token presale with a funding goal. If the goal is not met by the deadline every contribution is
/// refundable; to spare contributors the gas, anyone may push a refund to any contributor. After a
/// long grace period the owner may close the sale for good.
contract TokenPresale {
    address public owner;
    uint public goal;
    uint public deadline;
    uint public raised;
    uint public refunded;
    uint public refundCount;
    mapping(address => uint) public contributed;
    mapping(address => uint) public tokens;

    function TokenPresale(uint _goal, uint _days) public {
        owner = msg.sender;
        goal = _goal;
        deadline = now + _days * 1 days;
    }

    function contribute() public payable {
        if (now >= deadline || msg.value == 0) throw;
        contributed[msg.sender] += msg.value;
        tokens[msg.sender] += msg.value * 1000;
        raised += msg.value;
    }

    function refund(address contributor) public {
        if (now < deadline || raised >= goal) throw;
        var amount = contributed[contributor];
        if (amount == 0) throw;
        contributed[contributor] = 0;
        tokens[contributor] = 0;
        refunded += amount;
        refundCount += 1;
        contributor.call.value(amount)();
    }

    function withdrawRaised() public {
        if (msg.sender != owner || now < deadline || raised < goal) throw;
        owner.transfer(this.balance);
    }

    function close() public {
        if (msg.sender != owner || now < deadline + 180 days) throw;
        suicide(owner);
    }
}
