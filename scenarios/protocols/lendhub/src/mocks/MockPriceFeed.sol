// SPDX-License-Identifier: MIT
pragma solidity ^0.8.20;

import {Ownable} from "@openzeppelin/contracts/access/Ownable.sol";
import {IPriceFeed} from "src/interfaces/IPriceFeed.sol";

/// @notice Chainlink-style feed for local deployments: the owner posts rounds.
contract MockPriceFeed is IPriceFeed, Ownable {
    uint8 public immutable decimals;
    uint80 private _round;
    int256 private _answer;
    uint256 private _updatedAt;

    constructor(uint8 decimals_, int256 answer_, address owner_) Ownable(owner_) {
        decimals = decimals_;
        _post(answer_);
    }

    function setAnswer(int256 answer_) external onlyOwner {
        _post(answer_);
    }

    function latestRoundData() external view returns (uint80, int256, uint256, uint256, uint80) {
        return (_round, _answer, _updatedAt, _updatedAt, _round);
    }

    function _post(int256 answer_) private {
        _round += 1;
        _answer = answer_;
        _updatedAt = block.timestamp;
    }
}
