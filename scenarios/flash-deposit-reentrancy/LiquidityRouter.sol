// SPDX-License-Identifier: UNLICENSED
pragma solidity 0.8.26;

interface IToken {
    function approve(address spender, uint256 amount) external returns (bool);
    function transfer(address to, uint256 amount) external returns (bool);
    function balanceOf(address account) external view returns (uint256);
}

interface ILender {
    function maxFlashLoan(address token) external view returns (uint256);
    function flashFee(address token, uint256 amount) external view returns (uint256);
    function flashLoan(address receiver, address token, uint256 amount, bytes calldata data) external returns (bool);
    function deposit(address token, uint256 amount) external returns (uint256);
    function withdraw(address token, uint256 amount) external returns (uint256);
    function balanceOf(address token, address lender) external view returns (uint256);
}

/// @notice Borrows a lender's whole float for one transaction and settles with it.
contract LiquidityRouter {
    address private immutable _owner;
    address private _lender;

    constructor() {
        _owner = msg.sender;
    }

    function run(address lender, address token) external {
        require(msg.sender == _owner, "owner");
        _lender = lender;
        ILender(lender).flashLoan(address(this), token, ILender(lender).maxFlashLoan(token), "");
        ILender(lender).withdraw(token, ILender(lender).balanceOf(token, address(this)));
        IToken(token).transfer(_owner, IToken(token).balanceOf(address(this)));
        _lender = address(0);
    }

    function onFlashLoan(address, address token, uint256 amount, uint256 fee, bytes calldata)
        external
        returns (bytes32)
    {
        require(msg.sender == _lender, "lender");
        IToken(token).approve(msg.sender, amount);
        ILender(msg.sender).deposit(token, amount);
        IToken(token).transfer(msg.sender, fee);
        return keccak256("ERC3156FlashBorrower.onFlashLoan");
    }
}
