// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.26;

import {Initializable} from "@openzeppelin/contracts-upgradeable/proxy/utils/Initializable.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";

/// @title OutflowLimiterUpgradeable
/// @notice Per-asset outflow rate limit in the style of ERC-7265 (circuit breaker): within a rolling
///         window, the assets a contract sends out may not exceed a share of what it holds. An outflow
///         above the limit is reverted, so a drain that slips past every other defence still takes at
///         most `maxBps` of the holdings per window.
/// @dev The window is rolling: the amount already used decays linearly to zero over `window` seconds
///      (a leaky bucket), so there is no boundary at which a full second allowance opens at once.
///      A limit of 0 bps means "not configured" (no limit); a tripped asset may not flow out at all.
///      The component decides who may call the internal setters: in the demo protocol the admin (the
///      timelock) configures and resets, the pauser (the guardian) may only tighten or trip.
///      State lives in an ERC-7201 namespaced slot so it survives any reordering of the component's
///      own variables across upgrades.
abstract contract OutflowLimiterUpgradeable is Initializable {
    uint256 private constant BPS = 10_000;

    struct AssetLimit {
        uint16 maxBps; // share of holdings per window; 0 = no limit
        uint32 window; // seconds
        bool tripped; // no outflow at all until the admin resets it
        uint64 updatedAt;
        uint256 used; // outflow counted in the window, as of updatedAt
    }

    /// @custom:storage-location erc7201:bulwark.storage.OutflowLimiter
    struct OutflowLimiterStorage {
        mapping(address asset => AssetLimit) limits;
    }

    // keccak256(abi.encode(uint256(keccak256("bulwark.storage.OutflowLimiter")) - 1)) & ~bytes32(uint256(0xff))
    bytes32 private constant OUTFLOW_LIMITER_STORAGE_LOCATION =
        0xb2a65b70fb9293eb19ff090cc826e1e2cf519b0ce2e79e61838c6db8db273500;

    event OutflowLimitSet(address indexed asset, uint16 maxBps, uint32 window, address account);
    event OutflowLimitTripped(address indexed asset, address account);
    event OutflowLimitReset(address indexed asset, address account);

    error OutflowLimitExceeded(address asset, uint256 requested, uint256 allowed);
    error OutflowTripped(address asset);
    error InvalidOutflowLimit(uint16 maxBps, uint32 window);
    error WouldLoosenLimit(address asset);

    function _getOutflowLimiterStorage() private pure returns (OutflowLimiterStorage storage $) {
        assembly {
            $.slot := OUTFLOW_LIMITER_STORAGE_LOCATION
        }
    }

    function __OutflowLimiter_init() internal onlyInitializing {}

    function __OutflowLimiter_init_unchained() internal onlyInitializing {}

    // ----------------------------------------------------------------- views

    /// @notice The configured limit of `asset`: share of holdings (bps, 0 = none), window, tripped.
    function outflowLimit(address asset) public view returns (uint16 maxBps, uint32 window, bool tripped) {
        AssetLimit storage l = _getOutflowLimiterStorage().limits[asset];
        return (l.maxBps, l.window, l.tripped);
    }

    /// @notice How much of `asset` may leave right now without tripping the limit.
    function outflowAvailable(address asset) public view returns (uint256) {
        AssetLimit storage l = _getOutflowLimiterStorage().limits[asset];
        if (l.tripped) return 0;
        if (l.maxBps == 0) return type(uint256).max;
        uint256 limit = IERC20(asset).balanceOf(address(this)) * l.maxBps / BPS;
        uint256 used = _decayed(l);
        return used >= limit ? 0 : limit - used;
    }

    // ----------------------------------------------------------------- hook

    /// @dev Call before sending `amount` of `asset` out (while the contract still holds it).
    function _limitOutflow(address asset, uint256 amount) internal virtual {
        AssetLimit storage l = _getOutflowLimiterStorage().limits[asset];
        if (l.tripped) revert OutflowTripped(asset);
        if (l.maxBps == 0 || amount == 0) return;
        uint256 limit = IERC20(asset).balanceOf(address(this)) * l.maxBps / BPS;
        uint256 used = _decayed(l) + amount;
        if (used > limit) revert OutflowLimitExceeded(asset, used, limit);
        l.used = used;
        l.updatedAt = uint64(block.timestamp);
    }

    // ----------------------------------------------------------------- setters (gated by the component)

    /// @dev Any value, including none (0 bps): only for the admin.
    function _setOutflowLimit(address asset, uint16 maxBps, uint32 window) internal virtual {
        if (maxBps > BPS || (maxBps != 0 && window == 0)) revert InvalidOutflowLimit(maxBps, window);
        AssetLimit storage l = _getOutflowLimiterStorage().limits[asset];
        l.used = _decayed(l);
        l.updatedAt = uint64(block.timestamp);
        l.maxBps = maxBps;
        l.window = window;
        emit OutflowLimitSet(asset, maxBps, window, msg.sender);
    }

    /// @dev Only ever stricter: a smaller share (a configured one, if none was) over a window at least
    ///      as long. For the emergency role, which must never be able to loosen a limit.
    function _tightenOutflowLimit(address asset, uint16 maxBps, uint32 window) internal virtual {
        if (maxBps == 0 || maxBps > BPS || window == 0) revert InvalidOutflowLimit(maxBps, window);
        AssetLimit storage l = _getOutflowLimiterStorage().limits[asset];
        if (l.maxBps != 0 && (maxBps > l.maxBps || window < l.window)) revert WouldLoosenLimit(asset);
        l.used = _decayed(l);
        l.updatedAt = uint64(block.timestamp);
        l.maxBps = maxBps;
        l.window = window;
        emit OutflowLimitSet(asset, maxBps, window, msg.sender);
    }

    /// @dev Idempotent: tripping a tripped asset succeeds, so a resent emergency transaction lands.
    function _tripOutflowLimit(address asset) internal virtual {
        _getOutflowLimiterStorage().limits[asset].tripped = true;
        emit OutflowLimitTripped(asset, msg.sender);
    }

    /// @dev Clears the trip and the used allowance; the configured share and window stay.
    function _resetOutflowLimit(address asset) internal virtual {
        AssetLimit storage l = _getOutflowLimiterStorage().limits[asset];
        l.tripped = false;
        l.used = 0;
        l.updatedAt = uint64(block.timestamp);
        emit OutflowLimitReset(asset, msg.sender);
    }

    function _decayed(AssetLimit storage l) private view returns (uint256) {
        uint256 elapsed = block.timestamp - l.updatedAt;
        if (l.window == 0 || elapsed >= l.window) return 0;
        return l.used * (l.window - elapsed) / l.window;
    }
}
