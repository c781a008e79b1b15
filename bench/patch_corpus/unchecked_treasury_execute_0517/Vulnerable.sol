pragma solidity 0.5.17;

/// Club treasury: the owner proposes a payment (a recipient, an amount and an optional call), the
/// guardian approves it, and then anyone may execute it. Each approved payment is executed once.
contract ClubTreasury {
    struct Payment {
        address payable to;
        uint256 value;
        bytes data;
        bool approved;
        bool executed;
    }

    address public owner;
    address public guardian;
    uint256 public committed;
    uint256 public executedCount;
    Payment[] public payments;

    constructor(address _guardian) public payable {
        owner = msg.sender;
        guardian = _guardian;
    }

    function() external payable {}

    function propose(address payable to, uint256 value, bytes memory data) public returns (uint256) {
        require(msg.sender == owner);
        payments.push(Payment(to, value, data, false, false));
        return payments.length - 1;
    }

    function approve(uint256 id) public {
        require(msg.sender == guardian);
        Payment storage p = payments[id];
        require(!p.approved && address(this).balance >= committed + p.value);
        p.approved = true;
        committed += p.value;
    }

    function execute(uint256 id) public {
        Payment storage p = payments[id];
        require(p.approved && !p.executed);
        p.executed = true;
        committed -= p.value;
        executedCount += 1;
        p.to.call.value(p.value)(p.data);
    }

    function free() public view returns (uint256) {
        return address(this).balance - committed;
    }
}
