pragma solidity 0.4.24;

/// A member's wallet that accepts ether only once its holder has opened it.
contract LockableWallet {
    address public holder;
    bool public locked = true;

    constructor() public {
        holder = msg.sender;
    }

    function unlock() public {
        require(msg.sender == holder);
        locked = false;
    }

    function () public payable {
        require(!locked);
    }
}
