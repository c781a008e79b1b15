pragma solidity 0.4.24;

/// Three ways a contract pays: a batch with bookkeeping, a batch without, and one promised payment.
contract Batches {
    address public owner;
    address[] public payees;
    mapping(address => uint256) public owed;
    uint256 public paidOut;

    constructor() public {
        owner = msg.sender;
    }

    function book(address payee) public payable {
        require(msg.sender == owner);
        payees.push(payee);
        owed[payee] += msg.value;
    }

    function payAll() public {
        for (uint256 i = 0; i < payees.length; i++) {
            address payee = payees[i];
            uint256 amount = owed[payee];
            owed[payee] = 0;
            paidOut += amount;
            payee.send(amount);
        }
    }

    function spray(address[] to, uint256 each) public payable {
        for (uint256 i = 0; i < to.length; i++) {
            to[i].send(each);
        }
    }

    function withdraw() public {
        uint256 amount = owed[msg.sender];
        owed[msg.sender] = 0;
        msg.sender.send(amount);
    }
}
