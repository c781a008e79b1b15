pragma solidity 0.4.24;

/// A payee's wallet that only takes ether while its owner has it open.
contract GateWallet {
    address private owner;
    bool public open;

    function GateWallet() public {
        owner = msg.sender;
    }

    function setOpen(bool on) public {
        if (msg.sender != owner) throw;
        open = on;
    }

    function () public payable {
        if (!open) throw;
    }
}
