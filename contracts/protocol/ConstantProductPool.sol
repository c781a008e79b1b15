// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.26;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";
import {ERC20Upgradeable} from "@openzeppelin/contracts-upgradeable/token/ERC20/ERC20Upgradeable.sol";
import {ReentrancyGuardTransientUpgradeable} from
    "@openzeppelin/contracts-upgradeable/utils/ReentrancyGuardTransientUpgradeable.sol";
import {ProtectedUpgradeable} from "./ProtectedUpgradeable.sol";

/// @title ConstantProductPool
/// @notice x*y=k pool for two tokens with a 0.3% swap fee; LP shares are this contract's ERC-20.
///         Keeps cumulative-price accumulators and a ring of observations so consumers can read a
///         time-weighted price that one transaction cannot move.
contract ConstantProductPool is ProtectedUpgradeable, ERC20Upgradeable, ReentrancyGuardTransientUpgradeable {
    using SafeERC20 for IERC20;

    uint256 public constant MINIMUM_LIQUIDITY = 1_000;
    uint256 public constant FEE_BPS = 30;
    uint256 private constant BPS = 10_000;
    uint256 private constant PRICE_SCALE = 1e18;
    uint256 public constant OBSERVATIONS = 64;
    // MINIMUM_LIQUIDITY is minted here forever so the share price can never be reset to zero.
    address private constant DEAD = 0x000000000000000000000000000000000000dEaD;

    struct Observation {
        uint64 timestamp;
        uint256 price0Cumulative;
        uint256 price1Cumulative;
    }

    address public token0;
    address public token1;
    uint256 private _reserve0;
    uint256 private _reserve1;
    uint64 public blockTimestampLast;
    /// @notice Sum over time of (token1 per 1e18 token0) * seconds; wraps by design.
    uint256 public price0CumulativeLast;
    /// @notice Sum over time of (token0 per 1e18 token1) * seconds; wraps by design.
    uint256 public price1CumulativeLast;
    Observation[OBSERVATIONS] private _observations;
    uint256 public observationIndex;
    uint256 public observationCount;

    event LiquidityAdded(address indexed provider, address indexed to, uint256 amount0, uint256 amount1, uint256 liquidity);
    event LiquidityRemoved(address indexed provider, address indexed to, uint256 amount0, uint256 amount1, uint256 liquidity);
    event Swap(address indexed sender, address indexed tokenIn, uint256 amountIn, uint256 amountOut, address indexed to);
    event Sync(uint256 reserve0, uint256 reserve1);

    error InvalidToken(address token);
    error InsufficientLiquidity();
    error InsufficientLiquidityMinted();
    error InsufficientOutput(uint256 amountOut, uint256 minAmountOut);
    error ZeroAmount();
    error InsufficientHistory(uint32 window);

    function initialize(address token0_, address token1_, address admin, address guardian) external initializer {
        if (token0_ == address(0) || token1_ == address(0)) revert ZeroAddress();
        if (token0_ == token1_) revert InvalidToken(token1_);
        __Protected_init(admin, guardian);
        __ERC20_init("Bulwark Demo LP", "BDLP");
        __ReentrancyGuardTransient_init();
        token0 = token0_;
        token1 = token1_;
    }

    // ----------------------------------------------------------------- liquidity

    /// @notice Add liquidity at the current ratio; only the amounts that fit the ratio are taken.
    function addLiquidity(uint256 amount0, uint256 amount1, address to)
        external
        guarded
        nonReentrant
        returns (uint256 liquidity)
    {
        if (amount0 == 0 || amount1 == 0) revert ZeroAmount();
        if (to == address(0)) revert ZeroAddress();
        (uint256 r0, uint256 r1) = (_reserve0, _reserve1);
        uint256 supply = totalSupply();
        if (supply == 0) {
            liquidity = Math.sqrt(amount0 * amount1);
            if (liquidity <= MINIMUM_LIQUIDITY) revert InsufficientLiquidityMinted();
            liquidity -= MINIMUM_LIQUIDITY;
            _mint(DEAD, MINIMUM_LIQUIDITY);
        } else {
            uint256 optimal1 = amount0 * r1 / r0;
            if (optimal1 <= amount1) {
                amount1 = optimal1;
            } else {
                amount0 = amount1 * r0 / r1;
            }
            liquidity = Math.min(amount0 * supply / r0, amount1 * supply / r1);
            if (liquidity == 0) revert InsufficientLiquidityMinted();
        }
        _mint(to, liquidity);
        _update(r0 + amount0, r1 + amount1, r0, r1);
        emit LiquidityAdded(msg.sender, to, amount0, amount1, liquidity);
        IERC20(token0).safeTransferFrom(msg.sender, address(this), amount0);
        IERC20(token1).safeTransferFrom(msg.sender, address(this), amount1);
    }

    function removeLiquidity(uint256 liquidity, address to)
        external
        guarded
        nonReentrant
        returns (uint256 amount0, uint256 amount1)
    {
        if (liquidity == 0) revert ZeroAmount();
        if (to == address(0)) revert ZeroAddress();
        (uint256 r0, uint256 r1) = (_reserve0, _reserve1);
        uint256 supply = totalSupply();
        amount0 = liquidity * r0 / supply;
        amount1 = liquidity * r1 / supply;
        if (amount0 == 0 || amount1 == 0) revert InsufficientLiquidity();
        _burn(msg.sender, liquidity);
        _update(r0 - amount0, r1 - amount1, r0, r1);
        emit LiquidityRemoved(msg.sender, to, amount0, amount1, liquidity);
        IERC20(token0).safeTransfer(to, amount0);
        IERC20(token1).safeTransfer(to, amount1);
    }

    // ----------------------------------------------------------------- swaps

    /// @notice Sell exactly `amountIn` of `tokenIn` for the other token (0.3% fee stays in the pool).
    function swap(address tokenIn, uint256 amountIn, uint256 minAmountOut, address to)
        external
        guarded
        nonReentrant
        returns (uint256 amountOut)
    {
        if (amountIn == 0) revert ZeroAmount();
        if (to == address(0)) revert ZeroAddress();
        bool zeroForOne = _isToken0(tokenIn);
        (uint256 r0, uint256 r1) = (_reserve0, _reserve1);
        (uint256 reserveIn, uint256 reserveOut) = zeroForOne ? (r0, r1) : (r1, r0);
        amountOut = getAmountOut(amountIn, reserveIn, reserveOut);
        if (amountOut < minAmountOut) revert InsufficientOutput(amountOut, minAmountOut);
        if (amountOut == 0 || amountOut >= reserveOut) revert InsufficientLiquidity();
        address tokenOut = zeroForOne ? token1 : token0;
        if (zeroForOne) {
            _update(r0 + amountIn, r1 - amountOut, r0, r1);
        } else {
            _update(r0 - amountOut, r1 + amountIn, r0, r1);
        }
        emit Swap(msg.sender, tokenIn, amountIn, amountOut, to);
        IERC20(tokenIn).safeTransferFrom(msg.sender, address(this), amountIn);
        IERC20(tokenOut).safeTransfer(to, amountOut);
    }

    function getAmountOut(uint256 amountIn, uint256 reserveIn, uint256 reserveOut) public pure returns (uint256) {
        if (reserveIn == 0 || reserveOut == 0) revert InsufficientLiquidity();
        uint256 amountInWithFee = amountIn * (BPS - FEE_BPS);
        return amountInWithFee * reserveOut / (reserveIn * BPS + amountInWithFee);
    }

    /// @notice LP share transfers stop with the pool, so a frozen pool's claims cannot be moved.
    function transfer(address to, uint256 value) public override guarded returns (bool) {
        return super.transfer(to, value);
    }

    function transferFrom(address from, address to, uint256 value) public override guarded returns (bool) {
        return super.transferFrom(from, to, value);
    }

    // ----------------------------------------------------------------- prices

    function getReserves() external view returns (uint256 reserve0, uint256 reserve1) {
        return (_reserve0, _reserve1);
    }

    /// @notice Instantaneous price: units of the other token per 1e18 units of `asset`.
    function spotPrice(address asset) external view returns (uint256) {
        (uint256 r0, uint256 r1) = (_reserve0, _reserve1);
        if (r0 == 0 || r1 == 0) revert InsufficientLiquidity();
        return _isToken0(asset) ? r1 * PRICE_SCALE / r0 : r0 * PRICE_SCALE / r1;
    }

    /// @notice Accumulators as of now (extrapolated from the last update with current reserves).
    function currentCumulativePrices() public view returns (uint256 cumulative0, uint256 cumulative1, uint64 timestamp) {
        timestamp = uint64(block.timestamp);
        cumulative0 = price0CumulativeLast;
        cumulative1 = price1CumulativeLast;
        uint256 elapsed = timestamp - blockTimestampLast;
        if (elapsed > 0 && _reserve0 != 0 && _reserve1 != 0) {
            unchecked {
                cumulative0 += _reserve1 * PRICE_SCALE / _reserve0 * elapsed;
                cumulative1 += _reserve0 * PRICE_SCALE / _reserve1 * elapsed;
            }
        }
    }

    /// @notice Time-weighted price of `asset` (other token per 1e18) over at least the last `window`
    ///         seconds, measured from the newest observation at least `window` old.
    function twap(address asset, uint32 window) external view returns (uint256) {
        bool isZero = _isToken0(asset);
        (uint256 c0, uint256 c1, uint64 nowTs) = currentCumulativePrices();
        uint256 count = observationCount;
        for (uint256 i = 0; i < count; ++i) {
            Observation memory o = _observations[(observationIndex + OBSERVATIONS - i) % OBSERVATIONS];
            if (o.timestamp + window <= nowTs && o.timestamp < nowTs) {
                unchecked {
                    uint256 delta = isZero ? c0 - o.price0Cumulative : c1 - o.price1Cumulative;
                    return delta / (nowTs - o.timestamp);
                }
            }
        }
        revert InsufficientHistory(window);
    }

    // ----------------------------------------------------------------- internals

    function _isToken0(address asset) private view returns (bool) {
        if (asset == token0) return true;
        if (asset == token1) return false;
        revert InvalidToken(asset);
    }

    /// @dev Accumulates the price that held since the last update (with the OLD reserves), then
    ///      records an observation at most once per block, like Uniswap v2.
    function _update(uint256 balance0, uint256 balance1, uint256 r0, uint256 r1) private {
        uint64 ts = uint64(block.timestamp);
        uint256 elapsed = ts - blockTimestampLast;
        if (elapsed > 0 && r0 != 0 && r1 != 0) {
            unchecked {
                price0CumulativeLast += r1 * PRICE_SCALE / r0 * elapsed;
                price1CumulativeLast += r0 * PRICE_SCALE / r1 * elapsed;
            }
        }
        if (elapsed > 0 || observationCount == 0) {
            uint256 idx = observationCount == 0 ? 0 : (observationIndex + 1) % OBSERVATIONS;
            _observations[idx] = Observation(ts, price0CumulativeLast, price1CumulativeLast);
            observationIndex = idx;
            if (observationCount < OBSERVATIONS) observationCount += 1;
        }
        blockTimestampLast = ts;
        _reserve0 = balance0;
        _reserve1 = balance1;
        emit Sync(balance0, balance1);
    }
}
