// SPDX-License-Identifier: MIT
pragma solidity ^0.8.20;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {Initializable} from "@openzeppelin/contracts-upgradeable/proxy/utils/Initializable.sol";

/// @title LiquidityDesk
/// @notice Upgradeable desk holding market-making inventory; settlement hooks are pluggable.
contract LiquidityDesk is Initializable {
    IERC20 public asset;
    address public desk;
    mapping(address => uint256) public inventoryOf;

    event Hooked(address indexed hook);

    function initialize(IERC20 asset_, address desk_) external initializer {
        asset = asset_;
        desk = desk_;
    }

    function supply(uint256 amount) external {
        inventoryOf[msg.sender] += amount;
        asset.transferFrom(msg.sender, address(this), amount);
    }

    function pull(uint256 amount) external {
        inventoryOf[msg.sender] -= amount;
        asset.transfer(msg.sender, amount);
    }

    /// @notice Runs a settlement hook in the desk's context (hooks share the desk's storage).
    function settleWith(address hook, bytes calldata data) external {
        (bool ok,) = hook.delegatecall(data);
        require(ok, "hook");
        emit Hooked(hook);
    }
}

/// @notice A harmless settlement hook.
contract NoopHook {
    function settle() external pure {}
}
