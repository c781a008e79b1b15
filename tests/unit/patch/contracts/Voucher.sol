// SPDX-License-Identifier: MIT
pragma solidity 0.8.19;

contract Voucher {
    address public signer;
    mapping(address => uint256) public paid;

    constructor(address s) {
        signer = s;
    }

    function redeem(address to, uint256 amount, uint8 v, bytes32 r, bytes32 s) external {
        bytes32 h = keccak256(abi.encodePacked(to, amount));
        require(ecrecover(h, v, r, s) == signer, "sig");
        paid[to] += amount;
    }
}
