pragma solidity 0.4.26;

interface IRaffle {
    function buy() external payable;
}

/// A ticket holder's wallet that turns ether away until its owner switches it on.
contract SwitchWallet {
    address private owner;
    bool public accepting;

    constructor() public {
        owner = msg.sender;
    }

    function buyTickets(IRaffle raffle) public payable {
        raffle.buy.value(msg.value)();
    }

    function setAccepting(bool on) public {
        require(msg.sender == owner);
        accepting = on;
    }

    function () public payable {
        require(accepting);
    }
}
