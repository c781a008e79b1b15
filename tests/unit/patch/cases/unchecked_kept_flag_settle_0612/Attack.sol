pragma solidity 0.6.12;

interface IDesk {
    function file(uint256 amount) external;
}

/// A claimant's wallet that accepts ether only once its holder has opened it.
contract ClosedWallet {
    address public holder;
    bool public locked = true;

    constructor() public {
        holder = msg.sender;
    }

    function fileClaim(IDesk desk, uint256 amount) external {
        desk.file(amount);
    }

    function unlock() external {
        require(msg.sender == holder, "holder");
        locked = false;
    }

    receive() external payable {
        require(!locked, "locked");
    }
}
