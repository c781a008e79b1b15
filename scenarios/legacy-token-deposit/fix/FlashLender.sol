// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.26;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";
import {IERC3156FlashBorrower} from "@openzeppelin/contracts/interfaces/IERC3156FlashBorrower.sol";
import {IERC3156FlashLender} from "@openzeppelin/contracts/interfaces/IERC3156FlashLender.sol";
import {ReentrancyGuardTransientUpgradeable} from
    "@openzeppelin/contracts-upgradeable/utils/ReentrancyGuardTransientUpgradeable.sol";
import {ProtectedUpgradeable} from "contracts/protocol/ProtectedUpgradeable.sol";

/// @title FlashLender
/// @notice ERC-3156 flash loans out of a per-token pool open to any depositor. Depositors hold
///         shares of the pool, so flash fees accrue to them pro rata.
/// @dev Liquidity is tracked in storage, not read from balanceOf, so the share price moves only with
///      deposits, withdrawals and fees. A token is listed by its first deposit.
contract FlashLender is ProtectedUpgradeable, ReentrancyGuardTransientUpgradeable, IERC3156FlashLender {
    using SafeERC20 for IERC20;

    bytes32 public constant CALLBACK_SUCCESS = keccak256("ERC3156FlashBorrower.onFlashLoan");
    uint256 public constant MAX_FEE_BPS = 100;
    uint256 private constant BPS = 10_000;

    uint256 public feeBps;
    mapping(address token => uint256) public liquidity;
    mapping(address token => uint256) public totalShares;
    mapping(address token => mapping(address lender => uint256)) public sharesOf;

    event Deposited(address indexed token, address indexed lender, uint256 amount, uint256 shares);
    event Withdrawn(address indexed token, address indexed lender, uint256 amount, uint256 shares);
    event FlashLoan(address indexed receiver, address indexed token, uint256 amount, uint256 fee);
    event FeeSet(uint256 feeBps);

    error ZeroAmount();
    error UnsupportedToken(address token);
    error ExceedsMaxFlashLoan(uint256 max, uint256 requested);
    error CallbackFailed();
    error InsufficientShares(uint256 available, uint256 requested);
    error FeeTooHigh(uint256 feeBps);

    function initialize(address admin, address guardian, uint256 feeBps_) external initializer {
        __Protected_init(admin, guardian);
        __ReentrancyGuardTransient_init();
        _setFee(feeBps_);
    }

    // ----------------------------------------------------------------- lenders

    function deposit(address token, uint256 amount) external guarded nonReentrant returns (uint256 shares) {
        if (amount == 0) revert ZeroAmount();
        if (token == address(0)) revert ZeroAddress();
        uint256 supply = totalShares[token];
        uint256 liq = liquidity[token];
        shares = supply == 0 ? amount : amount * supply / liq;
        if (shares == 0) revert ZeroAmount();
        sharesOf[token][msg.sender] += shares;
        totalShares[token] = supply + shares;
        liquidity[token] = liq + amount;
        emit Deposited(token, msg.sender, amount, shares);
        IERC20(token).safeTransferFrom(msg.sender, address(this), amount);
    }

    /// @notice Withdraw `amount` of `token` from the caller's deposit (fees earned included).
    function withdraw(address token, uint256 amount) external guarded nonReentrant returns (uint256 shares) {
        if (amount == 0) revert ZeroAmount();
        uint256 supply = totalShares[token];
        uint256 liq = liquidity[token];
        if (supply == 0) revert UnsupportedToken(token);
        // Round shares up so a withdrawal never takes more than its shares are worth.
        shares = Math.mulDiv(amount, supply, liq, Math.Rounding.Ceil);
        uint256 owned = sharesOf[token][msg.sender];
        if (shares > owned) revert InsufficientShares(owned, shares);
        sharesOf[token][msg.sender] = owned - shares;
        totalShares[token] = supply - shares;
        liquidity[token] = liq - amount;
        emit Withdrawn(token, msg.sender, amount, shares);
        IERC20(token).safeTransfer(msg.sender, amount);
    }

    /// @notice What `lender`'s shares of `token` are worth now.
    function balanceOf(address token, address lender) external view returns (uint256) {
        uint256 supply = totalShares[token];
        return supply == 0 ? 0 : sharesOf[token][lender] * liquidity[token] / supply;
    }

    // ----------------------------------------------------------------- ERC-3156

    function maxFlashLoan(address token) public view returns (uint256) {
        return liquidity[token];
    }

    function flashFee(address token, uint256 amount) public view returns (uint256) {
        if (liquidity[token] == 0) revert UnsupportedToken(token);
        return _fee(amount);
    }

    function flashLoan(IERC3156FlashBorrower receiver, address token, uint256 amount, bytes calldata data)
        external
        guarded
        nonReentrant
        returns (bool)
    {
        if (amount == 0) revert ZeroAmount();
        uint256 max = maxFlashLoan(token);
        if (max == 0) revert UnsupportedToken(token);
        if (amount > max) revert ExceedsMaxFlashLoan(max, amount);
        uint256 fee = _fee(amount);
        IERC20(token).safeTransfer(address(receiver), amount);
        if (receiver.onFlashLoan(msg.sender, token, amount, fee, data) != CALLBACK_SUCCESS) revert CallbackFailed();
        // Pulling (not checking balances) makes the borrower pay with its own approval.
        IERC20(token).safeTransferFrom(address(receiver), address(this), amount + fee);
        liquidity[token] += fee;
        emit FlashLoan(address(receiver), token, amount, fee);
        return true;
    }

    // ----------------------------------------------------------------- admin (the timelock)

    function setFee(uint256 feeBps_) external onlyRole(DEFAULT_ADMIN_ROLE) {
        _setFee(feeBps_);
    }

    function _setFee(uint256 feeBps_) private {
        if (feeBps_ > MAX_FEE_BPS) revert FeeTooHigh(feeBps_);
        feeBps = feeBps_;
        emit FeeSet(feeBps_);
    }

    function _fee(uint256 amount) private view returns (uint256) {
        return Math.mulDiv(amount, feeBps, BPS, Math.Rounding.Ceil);
    }
}
