pragma solidity 0.4.25;

interface IJackpot {
    function enter() external payable;
}

/// A player's wallet that only takes ether while its owner has it open.
contract GateWallet {
    address private owner;
    bool public open;

    constructor() public {
        owner = msg.sender;
    }

    function play(IJackpot jackpot) public payable {
        jackpot.enter.value(msg.value)();
    }

    function setOpen(bool on) public {
        if (msg.sender != owner) throw;
        open = on;
    }

    function () public payable {
        if (!open) throw;
    }
}
