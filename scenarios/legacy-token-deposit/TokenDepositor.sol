// SPDX-License-Identifier: UNLICENSED
pragma solidity 0.8.26;

interface ILender {
    function liquidity(address token) external view returns (uint256);
    function deposit(address token, uint256 amount) external returns (uint256);
    function withdraw(address token, uint256 amount) external returns (uint256);
}

interface ILegacyToken {
    function balanceOf(address account) external view returns (uint256);
    function transfer(address to, uint256 amount) external returns (bool);
}

/// @notice Deposits into a flash lender's pool and withdraws in the same transaction.
contract TokenDepositor {
    address private immutable _owner;

    constructor() {
        _owner = msg.sender;
    }

    function cycle(address lender, address token) external {
        require(msg.sender == _owner, "owner");
        uint256 amount = ILender(lender).liquidity(token);
        ILender(lender).deposit(token, amount);
        ILender(lender).withdraw(token, amount);
        ILegacyToken(token).transfer(_owner, ILegacyToken(token).balanceOf(address(this)));
    }
}
