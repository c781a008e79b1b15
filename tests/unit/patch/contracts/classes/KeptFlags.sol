pragma solidity 0.5.17;

/// Payment results kept in locals: some tested, some only logged.
contract KeptFlags {
    address payable public admin;
    mapping(address => uint256) public owed;
    uint256 public rounds;

    event Paid(address to, uint256 amount, bool ok);

    constructor() public {
        admin = msg.sender;
    }

    function () external payable {}

    // the flag is only logged: a failed payment is booked as made
    function payLogged(address payable to) external {
        require(msg.sender == admin);
        rounds += 1;
        uint256 amount = owed[to];
        owed[to] = 0;
        (bool ok, ) = to.call.value(amount)("");
        emit Paid(to, amount, ok);
    }

    // the flag decides: not this flaw
    function payTested(address payable to) external {
        uint256 amount = owed[to];
        owed[to] = 0;
        bool ok = to.send(amount);
        if (!ok) {
            owed[to] = amount;
        }
    }

    // the flag is required: not this flaw
    function payRequired(address payable to) external {
        uint256 amount = owed[to];
        owed[to] = 0;
        bool ok = to.send(amount);
        require(ok);
    }
}
