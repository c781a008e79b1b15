pragma solidity 0.4.24;

/// Payouts on two branches: one forgets the debit; one debits on both; one debits through a local
/// of its own branch (cannot be copied as written).
contract Branches {
    address public owner;
    mapping(address => uint256) public bal;
    mapping(address => bool) public gold;

    constructor() public {
        owner = msg.sender;
    }

    function deposit() public payable {
        bal[msg.sender] += msg.value;
    }

    function withdrawForgets(uint256 amount) public {
        if (bal[msg.sender] < amount) throw;
        if (gold[msg.sender]) {
            bal[msg.sender] -= amount;
            msg.sender.transfer(amount);
        } else {
            msg.sender.transfer(amount / 2);
        }
    }

    function withdrawBoth(uint256 amount) public {
        require(bal[msg.sender] >= amount);
        if (gold[msg.sender]) {
            bal[msg.sender] -= amount;
            msg.sender.transfer(amount);
        } else {
            bal[msg.sender] = bal[msg.sender] - amount;
            msg.sender.transfer(amount / 2);
        }
    }

    function withdrawLocal(uint256 amount) public {
        require(bal[msg.sender] >= amount);
        if (gold[msg.sender]) {
            uint256 fee = amount / 100;
            bal[msg.sender] -= amount + fee;
            msg.sender.transfer(amount);
        } else {
            msg.sender.transfer(amount / 2);
        }
    }
}
