// SPDX-License-Identifier: MIT
pragma solidity ^0.8.20;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";

/// @title ModularVault
/// @notice A custody vault whose behaviour is extended by plugins run in its own context.
contract ModularVault {
    address public keeper;
    IERC20 public immutable asset;
    mapping(address => uint256) public deposited;

    event PluginRun(address indexed plugin, bytes4 selector);

    constructor(IERC20 asset_) {
        keeper = msg.sender;
        asset = asset_;
    }

    function deposit(uint256 amount) external {
        deposited[msg.sender] += amount;
        asset.transferFrom(msg.sender, address(this), amount);
    }

    function withdraw(uint256 amount) external {
        deposited[msg.sender] -= amount;
        asset.transfer(msg.sender, amount);
    }

    /// @notice Runs a plugin's hook with the vault's storage (e.g. bookkeeping helpers).
    function runPlugin(address plugin, bytes calldata data) external returns (bytes memory) {
        require(plugin.code.length > 0, "no code");
        (bool ok, bytes memory out) = plugin.delegatecall(data);
        require(ok, "plugin failed");
        emit PluginRun(plugin, bytes4(data));
        return out;
    }

    /// @notice Moves idle funds to the keeper's strategy.
    function sweepIdle(address to, uint256 amount) external {
        require(msg.sender == keeper, "keeper");
        asset.transfer(to, amount);
    }
}

/// @notice A bookkeeping plugin: reads the vault's balance (used by benign callers).
contract BalancePlugin {
    function ping() external pure returns (uint256) {
        return 1;
    }
}
