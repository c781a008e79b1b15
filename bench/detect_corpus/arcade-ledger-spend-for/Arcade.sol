// SPDX-License-Identifier: MIT
pragma solidity ^0.8.20;

/// @title TicketLedger
/// @notice Arcade tickets, kept as internal balances (no token). Games the operator registers may
///         spend a player's tickets when the player plays or redeems a prize.
contract TicketLedger {
    address public operator;
    mapping(address => bool) public games;
    mapping(address => uint256) public tickets;

    event Spent(address indexed player, address indexed game, uint256 amount);
    event Awarded(address indexed player, uint256 amount);

    constructor() {
        operator = msg.sender;
    }

    function registerGame(address game) external {
        require(msg.sender == operator, "operator");
        games[game] = true;
    }

    function award(address player, uint256 amount) external {
        require(games[msg.sender] || msg.sender == operator, "game");
        tickets[player] += amount;
        emit Awarded(player, amount);
    }

    function spend(address player, uint256 amount) external {
        require(games[msg.sender], "game");
        tickets[player] -= amount;
        emit Spent(player, msg.sender, amount);
    }

    function give(address to, uint256 amount) external {
        tickets[msg.sender] -= amount;
        tickets[to] += amount;
    }
}

/// @title PrizeCounter
/// @notice Redeems tickets for prizes; a player can redeem for a friend's account as a gift.
contract PrizeCounter {
    TicketLedger public immutable ledger;
    mapping(address => uint256) public prizesOf;

    event Redeemed(address indexed account, address indexed to, uint256 tickets);

    constructor(TicketLedger ledger_) {
        ledger = ledger_;
    }

    /// @notice Redeems `amount` tickets of `account` for prizes sent to `to`.
    function redeem(address account, address to, uint256 amount) external {
        ledger.spend(account, amount);
        prizesOf[to] += amount / 100;
        emit Redeemed(account, to, amount);
    }
}
