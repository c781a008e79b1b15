pragma solidity 0.6.12;

/// The beneficiary's wallet: takes ether only while its owner has it open.
contract GatedWallet {
    address private owner;
    bool public open;

    constructor() public {
        owner = msg.sender;
    }

    function setOpen(bool on) external {
        require(msg.sender == owner);
        open = on;
    }

    receive() external payable {
        require(open, "closed");
    }
}
