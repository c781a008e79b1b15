pragma solidity 0.4.24;

/// Household wallet: the owner pays bills freely; a deputy named by the owner may pay bills out of
/// an allowance the owner sets. The owner can hand the wallet over or close it.
contract HouseholdWallet {
    address public owner;
    address public deputy;
    uint256 public allowance;

    event BillPaid(address by, address to, uint256 amount);

    constructor(address _deputy, uint256 _allowance) public payable {
        owner = msg.sender;
        deputy = _deputy;
        allowance = _allowance;
    }

    function () public payable {}

    function payBill(address to, uint256 amount) public {
        if (msg.sender != owner) {
            if (msg.sender != deputy) throw;
            if (amount > allowance) throw;
            allowance -= amount;
        }
        to.transfer(amount);
        BillPaid(msg.sender, to, amount);
    }

    function setAllowance(uint256 amount) public {
        if (msg.sender != owner) throw;
        allowance = amount;
    }

    function setDeputy(address who) public {
        deputy = who;
    }

    function handOver(address newOwner) public {
        if (msg.sender != owner) throw;
        owner = newOwner;
    }

    function close() public {
        if (msg.sender != owner) throw;
        suicide(owner);
    }
}
