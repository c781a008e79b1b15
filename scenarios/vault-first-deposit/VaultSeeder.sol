// SPDX-License-Identifier: UNLICENSED
pragma solidity 0.8.26;

interface IToken {
    function approve(address spender, uint256 amount) external returns (bool);
    function transfer(address to, uint256 amount) external returns (bool);
    function balanceOf(address account) external view returns (uint256);
}

interface IVault {
    function asset() external view returns (address);
    function deposit(uint256 assets, address receiver) external returns (uint256);
    function redeem(uint256 shares, address receiver, address owner) external returns (uint256);
    function balanceOf(address account) external view returns (uint256);
}

/// @notice Seeds a newly launched vault and later exits it.
contract VaultSeeder {
    address private immutable _owner;

    constructor() {
        _owner = msg.sender;
    }

    modifier onlyOwner() {
        require(msg.sender == _owner, "owner");
        _;
    }

    /// @notice Takes the first share of `vault` for one unit and tops up its holdings by `topUp`.
    function seed(address vault, uint256 topUp) external onlyOwner {
        IToken token = IToken(IVault(vault).asset());
        token.approve(vault, 1);
        IVault(vault).deposit(1, address(this));
        token.transfer(vault, topUp);
    }

    /// @notice Redeems every share held and sends the assets to the owner.
    function exit(address vault) external onlyOwner {
        IVault(vault).redeem(IVault(vault).balanceOf(address(this)), _owner, address(this));
        IToken token = IToken(IVault(vault).asset());
        uint256 left = token.balanceOf(address(this));
        if (left > 0) token.transfer(_owner, left);
    }
}
