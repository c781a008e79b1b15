// SPDX-License-Identifier: MIT
pragma solidity ^0.8.26;

interface IERC20V {
    function transferFrom(address from, address to, uint256 amount) external returns (bool);
    function transfer(address to, uint256 amount) external returns (bool);
    function balanceOf(address account) external view returns (uint256);
}

/// @notice Implemented by accounts that want to be told when a withdrawal is paid to them.
interface IWithdrawRecipient {
    function onVaultWithdraw(address vault, uint256 shares, uint256 assets) external;
}

/// @title HookedVault
/// @notice Share vault over one token. Accounts may register a hook that the vault notifies on
///         each withdrawal (ERC-777 style `tokensReceived` for plain ERC-20 assets).
contract HookedVault {
    IERC20V public immutable asset;
    uint256 public totalShares;
    mapping(address => uint256) public sharesOf;
    mapping(address => address) public hookOf;

    event Deposit(address indexed account, uint256 assets, uint256 shares);
    event Withdraw(address indexed account, uint256 shares, uint256 assets);

    constructor(IERC20V asset_) {
        asset = asset_;
    }

    function totalAssets() public view returns (uint256) {
        return asset.balanceOf(address(this));
    }

    function setHook(address hook) external {
        hookOf[msg.sender] = hook;
    }

    function deposit(uint256 assets) external returns (uint256 shares) {
        uint256 supply = totalShares;
        shares = supply == 0 ? assets : (assets * supply) / totalAssets();
        require(asset.transferFrom(msg.sender, address(this), assets), "pull");
        totalShares = supply + shares;
        sharesOf[msg.sender] += shares;
        emit Deposit(msg.sender, assets, shares);
    }

    function withdraw(uint256 shares) external returns (uint256 assets) {
        uint256 held = sharesOf[msg.sender];
        require(held >= shares, "shares");
        assets = (shares * totalAssets()) / totalShares;
        require(asset.transfer(msg.sender, assets), "push");
        address hook = hookOf[msg.sender];
        if (hook != address(0)) {
            IWithdrawRecipient(hook).onVaultWithdraw(address(this), shares, assets);
        }
        sharesOf[msg.sender] = held - shares;
        totalShares -= shares;
        emit Withdraw(msg.sender, shares, assets);
    }
}

/// @title WithdrawNotifier
/// @notice A recipient hook that counts notifications (a wallet's accounting helper).
contract WithdrawNotifier is IWithdrawRecipient {
    uint256 public notified;
    uint256 public received;

    function onVaultWithdraw(address, uint256, uint256 assets) external {
        notified += 1;
        received += assets;
    }
}
