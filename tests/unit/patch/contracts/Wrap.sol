// SPDX-License-Identifier: MIT
pragma solidity 0.8.26;

contract Wrap {
    mapping(address => uint256) public balanceOf;

    function grant(address to, uint256 units, uint256 price) external {
        require(msg.sender == address(0x1234), "only");
        unchecked {
            balanceOf[to] += units * price;
        }
    }

    function loop(uint256 n) external pure returns (uint256 s) {
        for (uint256 i = 0; i < n; ) {
            s += i;
            unchecked { ++i; }
        }
    }
}
