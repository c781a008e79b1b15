pragma solidity 0.5.17;

interface IBulk {
    function pledge() external payable;
}

/// A buyer's smart wallet that only accepts ether while its owner has it unlocked.
contract LockedWallet {
    address private owner;
    bool public unlocked;

    constructor() public {
        owner = msg.sender;
    }

    function pledgeTo(IBulk order) external payable {
        order.pledge.value(msg.value)();
    }

    function setUnlocked(bool on) external {
        require(msg.sender == owner);
        unlocked = on;
    }

    function() external payable {
        require(unlocked, "locked");
    }
}
