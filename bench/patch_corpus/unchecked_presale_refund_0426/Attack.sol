pragma solidity 0.4.26;

interface IPresale {
    function contribute() external payable;
}

/// A contributor's wallet that only takes ether while its owner has it open.
contract GateWallet {
    address private owner;
    bool public open;

    function GateWallet() public {
        owner = msg.sender;
    }

    function buy(IPresale sale) public payable {
        sale.contribute.value(msg.value)();
    }

    function setOpen(bool on) public {
        if (msg.sender != owner) throw;
        open = on;
    }

    function () public payable {
        if (!open) throw;
    }
}
