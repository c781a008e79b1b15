pragma solidity 0.4.25;

/// Piggy bank: anyone may drop ether in; its owner takes some out or breaks it open, sending
/// everything left to an address of the owner's choice.
contract PiggyBank {
    address public owner;
    uint256 public deposits;

    event Dropped(address from, uint256 value);

    function PiggyBank() public {
        owner = msg.sender;
    }

    modifier onlyOwner() {
        if (tx.origin != owner) throw;
        _;
    }

    function () public payable {
        deposits += 1;
        Dropped(msg.sender, msg.value);
    }

    function takeOut(uint256 amount) public onlyOwner {
        owner.transfer(amount);
    }

    function changeOwner(address newOwner) public onlyOwner {
        owner = newOwner;
    }

    function breakOpen(address to) public onlyOwner {
        suicide(to);
    }
}
