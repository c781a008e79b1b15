// SPDX-License-Identifier: MIT
pragma solidity ^0.8.26;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";

/// @title DripFaucet
/// @notice A community faucet: a fixed drip per recipient, at most once a day per recipient.
contract DripFaucet {
    IERC20 public immutable asset;
    address public steward;
    uint256 public drip;
    mapping(address => uint256) public lastDrip;

    event Dripped(address indexed to, uint256 amount);

    constructor(IERC20 asset_, uint256 drip_) {
        asset = asset_;
        drip = drip_;
        steward = msg.sender;
    }

    function claim(address to) external {
        require(block.timestamp >= lastDrip[to] + 1 days, "cooldown");
        lastDrip[to] = block.timestamp;
        require(asset.transfer(to, drip), "push");
        emit Dripped(to, drip);
    }

    function setDrip(uint256 drip_) external {
        require(msg.sender == steward, "steward");
        drip = drip_;
    }
}
