// SPDX-License-Identifier: MIT
pragma solidity ^0.8.20;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";
import {Initializable} from "@openzeppelin/contracts-upgradeable/proxy/utils/Initializable.sol";
import {ERC20Upgradeable} from "@openzeppelin/contracts-upgradeable/token/ERC20/ERC20Upgradeable.sol";
import {AccessControlUpgradeable} from "@openzeppelin/contracts-upgradeable/access/AccessControlUpgradeable.sol";
import {PausableUpgradeable} from "@openzeppelin/contracts-upgradeable/utils/PausableUpgradeable.sol";
import {ILendingPool} from "src/interfaces/ILendingPool.sol";

/// @title LendHub savings vault
/// @notice Deposits of the stable asset earn the lending pool's supply rate. The vault keeps a
///         liquid buffer for withdrawals and lends the rest; its shares are a transferable ERC-20.
/// @dev Deployed behind a TransparentUpgradeableProxy. Liquid funds are tracked in `idle` rather
///      than read from `balanceOf`, so only the vault's own flows move the share price.
contract SavingsVault is Initializable, ERC20Upgradeable, AccessControlUpgradeable, PausableUpgradeable {
    using SafeERC20 for IERC20;
    using Math for uint256;

    bytes32 public constant PAUSER_ROLE = keccak256("PAUSER_ROLE");

    uint256 internal constant BPS = 10_000;

    IERC20 public asset;
    ILendingPool public lendingPool;
    uint256 public idle;
    uint256 public bufferBps;
    uint256 public depositCap;

    event Deposited(address indexed caller, address indexed receiver, uint256 assets, uint256 shares);
    event Withdrawn(address indexed owner, address indexed receiver, uint256 assets, uint256 shares);
    event Rebalanced(uint256 idle, uint256 lent);
    event LendingPoolUpdated(address indexed previous, address indexed current);
    event ParametersUpdated(uint256 bufferBps, uint256 depositCap);

    error ZeroAmount();
    error DepositCapExceeded(uint256 cap, uint256 requested);
    error InvalidParameter();

    /// @custom:oz-upgrades-unsafe-allow constructor
    constructor() {
        _disableInitializers();
    }

    /// @param admin Governance (the timelock): parameters, the lending pool, unpausing.
    /// @param pauser Emergency pauser.
    function initialize(
        IERC20 asset_,
        ILendingPool pool,
        address admin,
        address pauser,
        string memory name_,
        string memory symbol_,
        uint256 bufferBps_,
        uint256 depositCap_
    ) external initializer {
        __ERC20_init(name_, symbol_);
        __AccessControl_init();
        __Pausable_init();
        if (address(pool.asset()) != address(asset_)) revert InvalidParameter();
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
        _grantRole(PAUSER_ROLE, pauser);
        asset = asset_;
        lendingPool = pool;
        asset_.forceApprove(address(pool), type(uint256).max);
        _setParameters(bufferBps_, depositCap_);
    }

    // ----------------------------------------------------------------------------------- users

    /// @notice Deposits `assets`, mints vault shares to `receiver` and lends beyond the buffer.
    function deposit(uint256 assets, address receiver) external whenNotPaused returns (uint256 shares) {
        if (assets == 0) revert ZeroAmount();
        uint256 managed = totalAssets();
        if (managed + assets > depositCap) revert DepositCapExceeded(depositCap, managed + assets);
        uint256 supply = totalSupply();
        shares = supply == 0 ? assets : assets.mulDiv(supply, managed);
        if (shares == 0) revert ZeroAmount();
        idle += assets;
        _mint(receiver, shares);
        asset.safeTransferFrom(msg.sender, address(this), assets);
        emit Deposited(msg.sender, receiver, assets, shares);
        _rebalance();
    }

    /// @notice Burns `shares` of the caller and sends their value to `receiver`.
    function redeem(uint256 shares, address receiver) external whenNotPaused returns (uint256 assets) {
        if (shares == 0) revert ZeroAmount();
        assets = previewRedeem(shares);
        if (assets == 0) revert ZeroAmount();
        _burn(msg.sender, shares);
        if (assets > idle) _recall(assets - idle);
        // The pool rounds redemptions down: a recall can come back a few wei short.
        if (assets > idle) assets = idle;
        idle -= assets;
        asset.safeTransfer(receiver, assets);
        emit Withdrawn(msg.sender, receiver, assets, shares);
    }

    /// @notice Lends whatever exceeds the liquid buffer. Anyone may call it.
    function rebalance() external whenNotPaused {
        _rebalance();
    }

    // ----------------------------------------------------------------------------------- views

    /// @notice Liquid funds plus the current value of the vault's lending position.
    function totalAssets() public view returns (uint256) {
        return idle + lent();
    }

    function lent() public view returns (uint256) {
        ILendingPool pool = lendingPool;
        return pool.previewRedeem(pool.supplySharesOf(address(this)));
    }

    function previewRedeem(uint256 shares) public view returns (uint256) {
        uint256 supply = totalSupply();
        return supply == 0 ? 0 : shares.mulDiv(totalAssets(), supply);
    }

    // ----------------------------------------------------------------------------------- governance

    /// @notice Moves the vault's lending position to `pool` and lends through it from now on.
    function setLendingPool(ILendingPool pool) external whenNotPaused {
        if (address(pool.asset()) != address(asset)) revert InvalidParameter();
        ILendingPool previous = lendingPool;
        uint256 shares = previous.supplySharesOf(address(this));
        if (shares != 0) idle += previous.redeem(shares);
        asset.forceApprove(address(previous), 0);
        lendingPool = pool;
        asset.forceApprove(address(pool), type(uint256).max);
        emit LendingPoolUpdated(address(previous), address(pool));
        _rebalance();
    }

    function setParameters(uint256 bufferBps_, uint256 depositCap_) external onlyRole(DEFAULT_ADMIN_ROLE) {
        _setParameters(bufferBps_, depositCap_);
    }

    function pause() external onlyRole(PAUSER_ROLE) {
        _pause();
    }

    function unpause() external onlyRole(DEFAULT_ADMIN_ROLE) {
        _unpause();
    }

    // ----------------------------------------------------------------------------------- internal

    function _rebalance() internal {
        uint256 target = totalAssets().mulDiv(bufferBps, BPS);
        if (idle > target) {
            uint256 amount = idle - target;
            idle = target;
            lendingPool.supply(amount);
        }
        emit Rebalanced(idle, lent());
    }

    /// @dev Redeems enough pool shares to bring `shortfall` into the buffer.
    function _recall(uint256 shortfall) internal {
        ILendingPool pool = lendingPool;
        uint256 held = pool.supplySharesOf(address(this));
        uint256 value = pool.previewRedeem(held);
        uint256 shares = value <= shortfall ? held : Math.min(held, shortfall.mulDiv(held, value, Math.Rounding.Ceil));
        idle += pool.redeem(shares);
    }

    function _setParameters(uint256 bufferBps_, uint256 depositCap_) internal {
        if (bufferBps_ > BPS || depositCap_ == 0) revert InvalidParameter();
        bufferBps = bufferBps_;
        depositCap = depositCap_;
        emit ParametersUpdated(bufferBps_, depositCap_);
    }
}
