// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.26;

interface IERC20Approve {
    function approve(address spender, uint256 amount) external returns (bool);
}

interface IFlashLender3156 {
    function flashLoan(address receiver, address token, uint256 amount, bytes calldata data) external returns (bool);
}

/// @title BenignFlashBorrower
/// @notice Stands in for an arbitrage bot in benign traffic: takes an ERC-3156 flash loan, does its
///         (empty) business in the callback and repays by approval, paying the fee out of its own
///         balance.
contract BenignFlashBorrower {
    event Borrowed(address indexed lender, address indexed token, uint256 amount, uint256 fee);

    function borrow(address lender, address token, uint256 amount) external {
        IFlashLender3156(lender).flashLoan(address(this), token, amount, "");
    }

    function onFlashLoan(address, address token, uint256 amount, uint256 fee, bytes calldata)
        external
        returns (bytes32)
    {
        IERC20Approve(token).approve(msg.sender, amount + fee);
        emit Borrowed(msg.sender, token, amount, fee);
        return keccak256("ERC3156FlashBorrower.onFlashLoan");
    }
}
