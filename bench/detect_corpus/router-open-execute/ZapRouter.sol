// SPDX-License-Identifier: MIT
pragma solidity ^0.8.26;

interface IERC20Like {
    function transferFrom(address from, address to, uint256 amount) external returns (bool);
    function transfer(address to, uint256 amount) external returns (bool);
    function approve(address spender, uint256 amount) external returns (bool);
}

interface ISavingsVault {
    function depositFor(address account, uint256 amount) external;
}

/// @title ZapRouter
/// @notice Convenience router for the savings vault. Users approve the router once; it pulls their
///         tokens and deposits them on their behalf. `execute` batches calls to integrations
///         (aggregators, reward claimers) so a user can compose several steps in one transaction.
contract ZapRouter {
    struct Call {
        address target;
        bytes data;
    }

    IERC20Like public immutable token;
    ISavingsVault public immutable vault;

    event Zapped(address indexed account, uint256 amount);

    constructor(IERC20Like token_, ISavingsVault vault_) {
        token = token_;
        vault = vault_;
        token_.approve(address(vault_), type(uint256).max);
    }

    /// @notice Pulls `amount` from the caller and deposits it into the vault for the caller.
    function zapIn(uint256 amount) external {
        require(token.transferFrom(msg.sender, address(this), amount), "pull");
        vault.depositFor(msg.sender, amount);
        emit Zapped(msg.sender, amount);
    }

    /// @notice Runs a batch of calls from the router.
    function execute(Call[] calldata calls) external returns (bytes[] memory results) {
        results = new bytes[](calls.length);
        for (uint256 i = 0; i < calls.length; i++) {
            (bool ok, bytes memory ret) = calls[i].target.call(calls[i].data);
            require(ok, "call failed");
            results[i] = ret;
        }
    }
}

/// @title SavingsVault
/// @notice Holds deposits one-to-one; withdraw returns them.
contract SavingsVault {
    IERC20Like public immutable token;
    mapping(address => uint256) public balanceOf;
    uint256 public totalDeposits;

    constructor(IERC20Like token_) {
        token = token_;
    }

    function depositFor(address account, uint256 amount) external {
        require(token.transferFrom(msg.sender, address(this), amount), "pull");
        balanceOf[account] += amount;
        totalDeposits += amount;
    }

    function withdraw(uint256 amount) external {
        balanceOf[msg.sender] -= amount;
        totalDeposits -= amount;
        require(token.transfer(msg.sender, amount), "push");
    }
}

/// @title RewardTicker
/// @notice A harmless integration target: records a user's check-in.
contract RewardTicker {
    mapping(address => uint256) public ticks;

    function tick() external {
        ticks[tx.origin] += 1;
    }
}
