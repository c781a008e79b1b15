// SPDX-License-Identifier: MIT
pragma solidity ^0.8.26;

import {Token} from "../_shared/Token.sol";

/// @title RewardsDistributor
/// @notice Pays out rewards computed off-chain. The operator signs (recipient, amount, deadline);
///         the recipient claims with the signature before the deadline. Each signature pays once.
contract RewardsDistributor {
    Token public immutable reward;
    address public operator;
    mapping(bytes32 => bool) public redeemed;

    event Claimed(address indexed to, uint256 amount);

    constructor(Token reward_, address operator_) {
        reward = reward_;
        operator = operator_;
    }

    function claimDigest(address to, uint256 amount, uint256 deadline) public view returns (bytes32) {
        return keccak256(abi.encode(block.chainid, address(this), to, amount, deadline));
    }

    function claim(address to, uint256 amount, uint256 deadline, uint8 v, bytes32 r, bytes32 s) external {
        require(block.timestamp <= deadline, "expired");
        bytes32 ticket = keccak256(abi.encodePacked(r, s, v));
        require(!redeemed[ticket], "already claimed");
        require(ecrecover(claimDigest(to, amount, deadline), v, r, s) == operator, "not signed by operator");
        redeemed[ticket] = true;
        require(reward.transfer(to, amount), "transfer failed");
        emit Claimed(to, amount);
    }
}
