pragma solidity 0.8.19;

/// Equipment rental: the renter leaves a deposit and must return the item by the deadline to get it
/// back; after the deadline the owner may keep the deposit.
contract Rental {
    struct Lease {
        address payable renter;
        uint256 deposit;
        uint256 dueAt;
        bool open;
    }

    address payable public immutable owner;
    uint256 public immutable depositRequired;
    uint256 public immutable period;
    Lease[] public leases;

    event Rented(uint256 indexed id, address indexed renter, uint256 dueAt);
    event Returned(uint256 indexed id, bool onTime);

    constructor(uint256 deposit_, uint256 period_) {
        owner = payable(msg.sender);
        depositRequired = deposit_;
        period = period_;
    }

    function rent() external payable returns (uint256 id) {
        require(msg.value == depositRequired, "deposit");
        id = leases.length;
        leases.push(Lease(payable(msg.sender), msg.value, block.timestamp + period, true));
        emit Rented(id, msg.sender, block.timestamp + period);
    }

    function giveBack(uint256 id) external {
        Lease storage l = leases[id];
        require(l.open && msg.sender == l.renter, "lease");
        l.open = false;
        bool onTime = block.timestamp <= l.dueAt;
        emit Returned(id, onTime);
        if (onTime) {
            l.renter.transfer(l.deposit);
        } else {
            owner.transfer(l.deposit);
        }
    }

    function forfeit(uint256 id) external {
        Lease storage l = leases[id];
        require(msg.sender == owner && l.open && block.timestamp > l.dueAt, "not overdue");
        l.open = false;
        owner.transfer(l.deposit);
    }
}
