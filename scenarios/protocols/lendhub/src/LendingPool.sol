// SPDX-License-Identifier: MIT
pragma solidity ^0.8.20;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";
import {Initializable} from "@openzeppelin/contracts-upgradeable/proxy/utils/Initializable.sol";
import {AccessControlUpgradeable} from "@openzeppelin/contracts-upgradeable/access/AccessControlUpgradeable.sol";
import {PausableUpgradeable} from "@openzeppelin/contracts-upgradeable/utils/PausableUpgradeable.sol";
import {IPriceFeed} from "src/interfaces/IPriceFeed.sol";

/// @title LendHub lending pool
/// @notice Single-asset money market: lenders supply the stable asset for interest-bearing supply
///         shares; borrowers post native ETH as collateral and borrow the stable asset against it.
/// @dev Deployed behind a TransparentUpgradeableProxy. Debt is tracked in borrow shares so interest
///      accrues to every position at once; cash is tracked internally rather than read from
///      `balanceOf`, so tokens sent to the pool directly do not change the share price.
contract LendingPool is Initializable, AccessControlUpgradeable, PausableUpgradeable {
    using SafeERC20 for IERC20;
    using Math for uint256;

    bytes32 public constant PAUSER_ROLE = keccak256("PAUSER_ROLE");

    uint256 internal constant BPS = 10_000;
    uint256 internal constant WAD = 1e18;

    IERC20 public asset;
    IPriceFeed public priceFeed;
    uint256 public collateralFactorBps;
    uint256 public liquidationBonusBps;
    uint256 public borrowRatePerSecond;
    uint256 public maxPriceAge;

    uint256 public cash;
    uint256 public totalBorrows;
    uint256 public totalBorrowShares;
    uint256 public totalSupplyShares;
    uint256 public totalCollateral;
    uint256 public lastAccrual;

    mapping(address account => uint256) public supplySharesOf;
    mapping(address account => uint256) public borrowSharesOf;
    mapping(address account => uint256) public collateralOf;

    event Supplied(address indexed account, uint256 assets, uint256 shares);
    event Redeemed(address indexed account, uint256 assets, uint256 shares);
    event CollateralDeposited(address indexed account, uint256 amount);
    event CollateralWithdrawn(address indexed account, uint256 amount);
    event Borrowed(address indexed account, uint256 amount);
    event Repaid(address indexed payer, address indexed account, uint256 amount);
    event Liquidated(address indexed liquidator, address indexed account, uint256 repaid, uint256 seized);
    event InterestAccrued(uint256 interest, uint256 totalBorrows);
    event RiskParametersUpdated(uint256 collateralFactorBps, uint256 liquidationBonusBps, uint256 borrowRatePerSecond);
    event PriceFeedUpdated(address indexed feed, uint256 maxPriceAge);

    error ZeroAmount();
    error InsufficientLiquidity(uint256 available, uint256 requested);
    error InsufficientCollateral(uint256 available, uint256 requested);
    error Undercollateralized(uint256 debt, uint256 limit);
    error PositionHealthy(address account);
    error InvalidParameter();
    error InvalidPrice(int256 answer, uint256 updatedAt);
    error EthTransferFailed();

    /// @custom:oz-upgrades-unsafe-allow constructor
    constructor() {
        _disableInitializers();
    }

    /// @param admin Governance (the timelock): risk parameters, the feed, unpausing.
    /// @param pauser Emergency pauser.
    function initialize(
        IERC20 asset_,
        IPriceFeed feed,
        address admin,
        address pauser,
        uint256 collateralFactorBps_,
        uint256 liquidationBonusBps_,
        uint256 borrowRatePerSecond_
    ) external initializer {
        __AccessControl_init();
        __Pausable_init();
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
        _grantRole(PAUSER_ROLE, pauser);
        asset = asset_;
        _setPriceFeed(feed, 1 days);
        _setRiskParameters(collateralFactorBps_, liquidationBonusBps_, borrowRatePerSecond_);
        lastAccrual = block.timestamp;
    }

    // ----------------------------------------------------------------------------------- lenders

    /// @notice Supplies `assets` of the stable asset and mints supply shares to the caller.
    function supply(uint256 assets) external whenNotPaused returns (uint256 shares) {
        if (assets == 0) revert ZeroAmount();
        accrueInterest();
        shares = totalSupplyShares == 0 ? assets : assets.mulDiv(totalSupplyShares, totalAssets());
        if (shares == 0) revert ZeroAmount();
        supplySharesOf[msg.sender] += shares;
        totalSupplyShares += shares;
        cash += assets;
        asset.safeTransferFrom(msg.sender, address(this), assets);
        emit Supplied(msg.sender, assets, shares);
    }

    /// @notice Burns `shares` of the caller and pays out their value in the stable asset.
    function redeem(uint256 shares) external whenNotPaused returns (uint256 assets) {
        if (shares == 0) revert ZeroAmount();
        accrueInterest();
        assets = previewRedeem(shares);
        if (assets > cash) revert InsufficientLiquidity(cash, assets);
        supplySharesOf[msg.sender] -= shares;
        totalSupplyShares -= shares;
        cash -= assets;
        asset.safeTransfer(msg.sender, assets);
        emit Redeemed(msg.sender, assets, shares);
    }

    // ----------------------------------------------------------------------------------- borrowers

    /// @notice Adds the ETH sent to the caller's collateral.
    function depositCollateral() external payable whenNotPaused {
        if (msg.value == 0) revert ZeroAmount();
        collateralOf[msg.sender] += msg.value;
        totalCollateral += msg.value;
        emit CollateralDeposited(msg.sender, msg.value);
    }

    /// @notice Returns `amount` of the caller's ETH collateral, if the position stays healthy.
    function withdrawCollateral(uint256 amount) external whenNotPaused {
        if (amount == 0) revert ZeroAmount();
        accrueInterest();
        uint256 balance = collateralOf[msg.sender];
        if (amount > balance) revert InsufficientCollateral(balance, amount);
        uint256 remaining = balance - amount;
        uint256 debt = debtOf(msg.sender);
        uint256 limit = borrowLimit(remaining);
        if (debt > limit) revert Undercollateralized(debt, limit);

        (bool sent,) = payable(msg.sender).call{value: amount}("");
        if (!sent) revert EthTransferFailed();

        collateralOf[msg.sender] = remaining;
        totalCollateral -= amount;
        emit CollateralWithdrawn(msg.sender, amount);
    }

    /// @notice Borrows `amount` of the stable asset against the caller's collateral.
    function borrow(uint256 amount) external whenNotPaused {
        if (amount == 0) revert ZeroAmount();
        accrueInterest();
        if (amount > cash) revert InsufficientLiquidity(cash, amount);
        uint256 shares = totalBorrowShares == 0 ? amount : amount.mulDiv(totalBorrowShares, totalBorrows, Math.Rounding.Ceil);
        borrowSharesOf[msg.sender] += shares;
        totalBorrowShares += shares;
        totalBorrows += amount;
        cash -= amount;
        uint256 debt = debtOf(msg.sender);
        uint256 limit = borrowLimit(collateralOf[msg.sender]);
        if (debt > limit) revert Undercollateralized(debt, limit);
        asset.safeTransfer(msg.sender, amount);
        emit Borrowed(msg.sender, amount);
    }

    /// @notice Repays up to `amount` of `account`'s debt from the caller's balance.
    /// @return repaid What was actually repaid (at most the outstanding debt).
    function repay(address account, uint256 amount) external whenNotPaused returns (uint256 repaid) {
        if (amount == 0) revert ZeroAmount();
        accrueInterest();
        repaid = _repay(msg.sender, account, amount);
    }

    /// @notice Repays part of an unhealthy position's debt and takes its collateral at a discount.
    function liquidate(address account, uint256 amount) external whenNotPaused returns (uint256 seized) {
        if (amount == 0) revert ZeroAmount();
        accrueInterest();
        uint256 debt = debtOf(account);
        if (debt <= borrowLimit(collateralOf[account])) revert PositionHealthy(account);
        uint256 repaid = _repay(msg.sender, account, amount);
        seized = repaid.mulDiv(BPS + liquidationBonusBps, BPS).mulDiv(WAD, ethPrice());
        uint256 available = collateralOf[account];
        if (seized > available) seized = available;
        collateralOf[account] = available - seized;
        totalCollateral -= seized;
        (bool sent,) = payable(msg.sender).call{value: seized}("");
        if (!sent) revert EthTransferFailed();
        emit Liquidated(msg.sender, account, repaid, seized);
    }

    // ----------------------------------------------------------------------------------- views

    /// @notice Cash plus outstanding borrows, interest included up to the last accrual.
    function totalAssets() public view returns (uint256) {
        return cash + totalBorrows;
    }

    function previewRedeem(uint256 shares) public view returns (uint256) {
        if (totalSupplyShares == 0) return 0;
        return shares.mulDiv(cash + totalBorrows + _pendingInterest(), totalSupplyShares);
    }

    /// @notice Outstanding debt of `account`, interest included up to the last accrual.
    function debtOf(address account) public view returns (uint256) {
        uint256 shares = borrowSharesOf[account];
        if (shares == 0) return 0;
        return shares.mulDiv(totalBorrows, totalBorrowShares, Math.Rounding.Ceil);
    }

    /// @notice How much debt `collateral` wei of ETH can carry, in the stable asset.
    function borrowLimit(uint256 collateral) public view returns (uint256) {
        return collateral.mulDiv(ethPrice(), WAD).mulDiv(collateralFactorBps, BPS);
    }

    /// @notice ETH price in the stable asset's units (18 decimals), from the feed.
    function ethPrice() public view returns (uint256) {
        (, int256 answer,, uint256 updatedAt,) = priceFeed.latestRoundData();
        if (answer <= 0 || updatedAt + maxPriceAge < block.timestamp) revert InvalidPrice(answer, updatedAt);
        return uint256(answer) * 10 ** (18 - priceFeed.decimals());
    }

    // ----------------------------------------------------------------------------------- interest

    /// @notice Charges interest on outstanding borrows since the last accrual.
    function accrueInterest() public {
        uint256 interest = _pendingInterest();
        lastAccrual = block.timestamp;
        if (interest == 0) return;
        totalBorrows += interest;
        emit InterestAccrued(interest, totalBorrows);
    }

    function _pendingInterest() internal view returns (uint256) {
        uint256 elapsed = block.timestamp - lastAccrual;
        if (elapsed == 0 || totalBorrows == 0) return 0;
        return totalBorrows.mulDiv(borrowRatePerSecond * elapsed, WAD);
    }

    function _repay(address payer, address account, uint256 amount) internal returns (uint256 repaid) {
        uint256 debt = debtOf(account);
        repaid = amount > debt ? debt : amount;
        if (repaid == 0) revert ZeroAmount();
        uint256 shares = repaid == debt
            ? borrowSharesOf[account]
            : repaid.mulDiv(totalBorrowShares, totalBorrows);
        borrowSharesOf[account] -= shares;
        totalBorrowShares -= shares;
        totalBorrows -= repaid > totalBorrows ? totalBorrows : repaid;
        cash += repaid;
        asset.safeTransferFrom(payer, address(this), repaid);
        emit Repaid(payer, account, repaid);
    }

    // ----------------------------------------------------------------------------------- governance

    function setRiskParameters(uint256 collateralFactorBps_, uint256 liquidationBonusBps_, uint256 borrowRatePerSecond_)
        external
        onlyRole(DEFAULT_ADMIN_ROLE)
    {
        accrueInterest();
        _setRiskParameters(collateralFactorBps_, liquidationBonusBps_, borrowRatePerSecond_);
    }

    function setPriceFeed(IPriceFeed feed, uint256 maxPriceAge_) external onlyRole(DEFAULT_ADMIN_ROLE) {
        _setPriceFeed(feed, maxPriceAge_);
    }

    function pause() external onlyRole(PAUSER_ROLE) {
        _pause();
    }

    function unpause() external onlyRole(DEFAULT_ADMIN_ROLE) {
        _unpause();
    }

    function _setRiskParameters(uint256 cf, uint256 bonus, uint256 rate) internal {
        if (cf == 0 || cf >= BPS || bonus >= BPS - cf || rate > WAD / 365 days) revert InvalidParameter();
        collateralFactorBps = cf;
        liquidationBonusBps = bonus;
        borrowRatePerSecond = rate;
        emit RiskParametersUpdated(cf, bonus, rate);
    }

    function _setPriceFeed(IPriceFeed feed, uint256 maxPriceAge_) internal {
        if (address(feed) == address(0) || maxPriceAge_ == 0 || feed.decimals() > 18) revert InvalidParameter();
        priceFeed = feed;
        maxPriceAge = maxPriceAge_;
        emit PriceFeedUpdated(address(feed), maxPriceAge_);
    }
}
