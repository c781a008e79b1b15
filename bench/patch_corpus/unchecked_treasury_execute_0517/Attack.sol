pragma solidity 0.5.17;

/// A supplier's wallet that takes payments (with an invoice reference) only while its owner has
/// it open.
contract GateWallet {
    address private owner;
    bool public open;
    uint256 public lastInvoice;

    constructor() public {
        owner = msg.sender;
    }

    function setOpen(bool on) public {
        require(msg.sender == owner);
        open = on;
    }

    function payInvoice(uint256 invoice) public payable {
        require(open);
        lastInvoice = invoice;
    }

    function() external payable {
        require(open);
    }
}
