pragma solidity 0.7.6;

/// Forces ether into any address: selfdestruct does not ask the recipient.
contract Pinata {
    constructor() payable {}

    function burst(address payable target) external {
        selfdestruct(target);
    }
}
