// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.26;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";
import {ReentrancyGuardTransientUpgradeable} from
    "@openzeppelin/contracts-upgradeable/utils/ReentrancyGuardTransientUpgradeable.sol";
import {ProtectedUpgradeable} from "./ProtectedUpgradeable.sol";
import {IPriceOracle} from "./IPriceOracle.sol";

/// @title LendingMarket
/// @notice Single-pair, interest-free lending market: lenders supply the debt asset (USD),
///         borrowers post the collateral asset (WETH) priced by the oracle and borrow up to the LTV.
///         Positions whose health factor drops below 1 can be liquidated, up to the close factor,
///         with a collateral bonus for the liquidator.
/// @dev The debt asset is valued at 1 USD per 1e18 units; the oracle prices the collateral.
contract LendingMarket is ProtectedUpgradeable, ReentrancyGuardTransientUpgradeable {
    using SafeERC20 for IERC20;

    uint256 private constant BPS = 10_000;
    uint256 private constant WAD = 1e18;

    IERC20 public collateral;
    IERC20 public debtAsset;
    address public oracle;

    uint256 public ltvBps;
    uint256 public liquidationThresholdBps;
    uint256 public liquidationBonusBps;
    uint256 public closeFactorBps;

    uint256 public totalSupplied;
    uint256 public totalBorrowed;
    uint256 public totalCollateral;
    mapping(address lender => uint256) public suppliedOf;
    mapping(address borrower => uint256) public collateralOf;
    mapping(address borrower => uint256) public debtOf;

    event Supplied(address indexed lender, uint256 amount);
    event SupplyWithdrawn(address indexed lender, uint256 amount);
    event CollateralDeposited(address indexed borrower, uint256 amount);
    event CollateralWithdrawn(address indexed borrower, uint256 amount);
    event Borrowed(address indexed borrower, uint256 amount);
    event Repaid(address indexed payer, address indexed borrower, uint256 amount);
    event Liquidated(
        address indexed liquidator, address indexed borrower, uint256 repaid, uint256 collateralSeized
    );
    event OracleSet(address indexed oracle);
    event RiskParamsSet(uint256 ltvBps, uint256 liquidationThresholdBps, uint256 liquidationBonusBps, uint256 closeFactorBps);

    error ZeroAmount();
    error InsufficientSupply(uint256 available, uint256 requested);
    error InsufficientCash(uint256 available, uint256 requested);
    error InsufficientCollateral(uint256 available, uint256 requested);
    error BorrowLimitExceeded(uint256 limit, uint256 debt);
    error Unhealthy(uint256 healthFactor);
    error Healthy(uint256 healthFactor);
    error NoDebt(address borrower);
    error InvalidRiskParams();

    function initialize(address collateral_, address debtAsset_, address oracle_, address admin, address guardian)
        external
        initializer
    {
        if (collateral_ == address(0) || debtAsset_ == address(0) || oracle_ == address(0)) revert ZeroAddress();
        __Protected_init(admin, guardian);
        __ReentrancyGuardTransient_init();
        collateral = IERC20(collateral_);
        debtAsset = IERC20(debtAsset_);
        oracle = oracle_;
        _setRiskParams(7_500, 8_000, 500, 5_000);
        emit OracleSet(oracle_);
    }

    // ----------------------------------------------------------------- lenders

    function supply(uint256 amount) external guarded nonReentrant {
        if (amount == 0) revert ZeroAmount();
        suppliedOf[msg.sender] += amount;
        totalSupplied += amount;
        emit Supplied(msg.sender, amount);
        debtAsset.safeTransferFrom(msg.sender, address(this), amount);
    }

    function withdrawSupply(uint256 amount) external guarded nonReentrant {
        if (amount == 0) revert ZeroAmount();
        uint256 supplied = suppliedOf[msg.sender];
        if (amount > supplied) revert InsufficientSupply(supplied, amount);
        uint256 cash = totalSupplied - totalBorrowed;
        if (amount > cash) revert InsufficientCash(cash, amount);
        suppliedOf[msg.sender] = supplied - amount;
        totalSupplied -= amount;
        emit SupplyWithdrawn(msg.sender, amount);
        _limitOutflow(address(debtAsset), amount);
        debtAsset.safeTransfer(msg.sender, amount);
    }

    // ----------------------------------------------------------------- borrowers

    function depositCollateral(uint256 amount) external guarded nonReentrant {
        if (amount == 0) revert ZeroAmount();
        collateralOf[msg.sender] += amount;
        totalCollateral += amount;
        emit CollateralDeposited(msg.sender, amount);
        collateral.safeTransferFrom(msg.sender, address(this), amount);
    }

    function withdrawCollateral(uint256 amount) external guarded nonReentrant {
        if (amount == 0) revert ZeroAmount();
        uint256 posted = collateralOf[msg.sender];
        if (amount > posted) revert InsufficientCollateral(posted, amount);
        collateralOf[msg.sender] = posted - amount;
        totalCollateral -= amount;
        uint256 hf = healthFactor(msg.sender);
        if (hf < WAD) revert Unhealthy(hf);
        emit CollateralWithdrawn(msg.sender, amount);
        _limitOutflow(address(collateral), amount);
        collateral.safeTransfer(msg.sender, amount);
    }

    function borrow(uint256 amount) external guarded nonReentrant {
        if (amount == 0) revert ZeroAmount();
        uint256 cash = totalSupplied - totalBorrowed;
        if (amount > cash) revert InsufficientCash(cash, amount);
        uint256 debt = debtOf[msg.sender] + amount;
        uint256 limit = borrowLimit(msg.sender);
        if (debt > limit) revert BorrowLimitExceeded(limit, debt);
        debtOf[msg.sender] = debt;
        totalBorrowed += amount;
        emit Borrowed(msg.sender, amount);
        _limitOutflow(address(debtAsset), amount);
        debtAsset.safeTransfer(msg.sender, amount);
    }

    /// @notice Repay up to `amount` of the caller's debt; any excess is not taken.
    function repay(uint256 amount) external guarded nonReentrant {
        if (amount == 0) revert ZeroAmount();
        uint256 debt = debtOf[msg.sender];
        if (debt == 0) revert NoDebt(msg.sender);
        uint256 paid = Math.min(amount, debt);
        debtOf[msg.sender] = debt - paid;
        totalBorrowed -= paid;
        emit Repaid(msg.sender, msg.sender, paid);
        debtAsset.safeTransferFrom(msg.sender, address(this), paid);
    }

    // ----------------------------------------------------------------- liquidations

    /// @notice Repay part of an unhealthy borrower's debt and seize collateral worth the repaid
    ///         amount plus the bonus. `repayAmount` above the close factor is reduced to it.
    function liquidate(address borrower, uint256 repayAmount) external guarded nonReentrant {
        if (repayAmount == 0) revert ZeroAmount();
        uint256 hf = healthFactor(borrower);
        if (hf >= WAD) revert Healthy(hf);
        uint256 debt = debtOf[borrower];
        uint256 maxRepay = Math.max(debt * closeFactorBps / BPS, 1);
        uint256 repaid = Math.min(repayAmount, Math.min(maxRepay, debt));
        uint256 px = _collateralPrice();
        uint256 seize = repaid * WAD / px * (BPS + liquidationBonusBps) / BPS;
        uint256 posted = collateralOf[borrower];
        if (seize > posted) seize = posted; // bad debt: the liquidator takes what is left
        debtOf[borrower] = debt - repaid;
        totalBorrowed -= repaid;
        collateralOf[borrower] = posted - seize;
        totalCollateral -= seize;
        emit Liquidated(msg.sender, borrower, repaid, seize);
        debtAsset.safeTransferFrom(msg.sender, address(this), repaid);
        _limitOutflow(address(collateral), seize);
        collateral.safeTransfer(msg.sender, seize);
    }

    // ----------------------------------------------------------------- views

    /// @notice USD value (18 decimals) of the borrower's collateral at the oracle price.
    function collateralValue(address borrower) public view returns (uint256) {
        uint256 posted = collateralOf[borrower];
        return posted == 0 ? 0 : posted * _collateralPrice() / WAD;
    }

    function borrowLimit(address borrower) public view returns (uint256) {
        return collateralValue(borrower) * ltvBps / BPS;
    }

    /// @notice Liquidation-threshold-weighted collateral over debt, 1e18 = at the edge; max if no debt.
    function healthFactor(address borrower) public view returns (uint256) {
        uint256 debt = debtOf[borrower];
        if (debt == 0) return type(uint256).max;
        return collateralValue(borrower) * liquidationThresholdBps / BPS * WAD / debt;
    }

    function availableLiquidity() external view returns (uint256) {
        return totalSupplied - totalBorrowed;
    }

    // ----------------------------------------------------------------- admin (the timelock)

    function setOracle(address oracle_) external onlyRole(DEFAULT_ADMIN_ROLE) {
        if (oracle_ == address(0)) revert ZeroAddress();
        oracle = oracle_;
        emit OracleSet(oracle_);
    }

    function setRiskParams(uint256 ltv, uint256 threshold, uint256 bonus, uint256 closeFactor)
        external
        onlyRole(DEFAULT_ADMIN_ROLE)
    {
        _setRiskParams(ltv, threshold, bonus, closeFactor);
    }

    function _setRiskParams(uint256 ltv, uint256 threshold, uint256 bonus, uint256 closeFactor) private {
        // LTV below the threshold leaves room before liquidation; the bonus must keep a liquidation
        // from seizing more value than the threshold protects.
        if (ltv == 0 || ltv >= threshold || threshold > BPS || threshold * (BPS + bonus) / BPS > BPS) {
            revert InvalidRiskParams();
        }
        if (closeFactor == 0 || closeFactor > BPS) revert InvalidRiskParams();
        ltvBps = ltv;
        liquidationThresholdBps = threshold;
        liquidationBonusBps = bonus;
        closeFactorBps = closeFactor;
        emit RiskParamsSet(ltv, threshold, bonus, closeFactor);
    }

    function _collateralPrice() private view returns (uint256) {
        return IPriceOracle(oracle).price(address(collateral));
    }
}
