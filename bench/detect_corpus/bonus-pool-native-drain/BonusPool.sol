// SPDX-License-Identifier: MIT
pragma solidity ^0.8.20;

/// @title BonusPool
/// @notice Pays each new member a one-off bonus of a tenth of the pool, in ether.
contract BonusPool {
    address public steward;
    mapping(address => bool) public claimed;

    event Bonus(address indexed member, uint256 amount);

    constructor() payable {
        steward = msg.sender;
    }

    receive() external payable {}

    /// @notice Claims the bonus for `member` (paid to the member).
    function claimBonus(address payable member) external {
        require(!claimed[member], "claimed");
        claimed[member] = true;
        uint256 amount = address(this).balance / 10;
        (bool ok,) = member.call{value: amount}("");
        require(ok, "pay");
        emit Bonus(member, amount);
    }

    function retire(address payable to) external {
        require(msg.sender == steward, "steward");
        to.transfer(address(this).balance);
    }
}

/// @notice Attacker helper: a fresh member address per call that forwards what it receives.
contract Forwarder {
    address payable public immutable owner;

    constructor(address payable owner_) {
        owner = owner_;
    }

    receive() external payable {
        owner.transfer(msg.value);
    }
}
