pragma solidity 0.4.24;

/// Payroll: the owner books what each payee is owed; anyone may run the payout.
contract Payroll {
    address public owner;
    address[] public payees;
    mapping(address => uint256) public owed;

    constructor() public {
        owner = msg.sender;
    }

    function add(address payee) public payable {
        require(msg.sender == owner);
        if (owed[payee] == 0) payees.push(payee);
        owed[payee] += msg.value;
    }

    function payAll() public {
        for (uint256 i = 0; i < payees.length; i++) {
            address payee = payees[i];
            uint256 amount = owed[payee];
            owed[payee] = 0;
            payee.send(amount);
        }
    }
}
