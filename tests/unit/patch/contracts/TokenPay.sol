// SPDX-License-Identifier: MIT
pragma solidity 0.7.6;

interface IToken {
    function transfer(address to, uint256 amount) external returns (bool);
    function transferFrom(address from, address to, uint256 amount) external returns (bool);
}

contract TokenPay {
    IToken public token;
    mapping(address => uint256) public credit;

    constructor(IToken t) {
        token = t;
    }

    function fund(uint256 amount) external {
        token.transferFrom(msg.sender, address(this), amount);
        credit[msg.sender] += amount;
    }
}
