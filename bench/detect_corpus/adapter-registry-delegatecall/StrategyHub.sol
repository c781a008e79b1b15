// SPDX-License-Identifier: MIT
pragma solidity ^0.8.20;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";

/// @title StrategyHub
/// @notice Custodies a fund's assets and runs strategy adapters against them. Adapters are listed
///         in an open registry (anyone may publish one); they run in the hub's context so that
///         they can move its tokens.
contract StrategyHub {
    IERC20 public immutable asset;
    uint256 public adapterCount;
    mapping(uint256 => address) public adapters;
    address public manager;

    event AdapterListed(uint256 indexed id, address adapter);
    event Ran(uint256 indexed id, bytes4 selector);

    constructor(IERC20 asset_) {
        asset = asset_;
        manager = msg.sender;
    }

    function listAdapter(address adapter) external returns (uint256 id) {
        require(adapter.code.length > 0, "no code");
        id = ++adapterCount;
        adapters[id] = adapter;
        emit AdapterListed(id, adapter);
    }

    /// @notice Runs a listed adapter's step with the hub's storage and balances.
    function run(uint256 id, bytes calldata data) external returns (bytes memory out) {
        address adapter = adapters[id];
        require(adapter != address(0), "unknown adapter");
        bool ok;
        (ok, out) = adapter.delegatecall(data);
        require(ok, "adapter failed");
        emit Ran(id, bytes4(data));
    }

    function withdraw(address to, uint256 amount) external {
        require(msg.sender == manager, "manager");
        require(asset.transfer(to, amount), "push");
    }
}

/// @notice A listed adapter the fund uses: reports the hub's idle balance.
contract IdleReport {
    function idle(address token) external view returns (uint256) {
        return IERC20(token).balanceOf(address(this));
    }
}
