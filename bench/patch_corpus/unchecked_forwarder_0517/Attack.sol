pragma solidity 0.5.17;

/// A merchant's checkout contract that only takes payments while its till is open.
contract Till {
    address private owner;
    bool public open;

    constructor() public {
        owner = msg.sender;
    }

    function setOpen(bool on) external {
        require(msg.sender == owner);
        open = on;
    }

    function() external payable {
        require(open, "till closed");
    }
}
