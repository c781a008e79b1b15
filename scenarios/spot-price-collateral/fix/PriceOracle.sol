// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.26;

import {ProtectedUpgradeable} from "contracts/protocol/ProtectedUpgradeable.sol";
import {IPriceOracle} from "contracts/protocol/IPriceOracle.sol";

/// @notice The part of the protocol's constant-product pool the oracle reads.
interface IPricePool {
    function spotPrice(address asset) external view returns (uint256);
    function twap(address asset, uint32 window) external view returns (uint256);
}

/// @title PriceOracle
/// @notice Push oracle: a keeper holding ORACLE_ROLE posts USD prices (18 decimals per 1e18 units).
///         Assets with a deep USD pool in the protocol can instead be priced from that pool, which
///         follows the market block by block without waiting for the keeper.
contract PriceOracle is ProtectedUpgradeable, IPriceOracle {
    bytes32 public constant ORACLE_ROLE = keccak256("ORACLE_ROLE");
    uint32 public constant TWAP_WINDOW = 30 minutes;

    struct Quote {
        uint192 price;
        uint64 updatedAt;
    }

    mapping(address asset => Quote) private _quotes;
    /// @notice USD-quoted pool an asset is priced from; zero for keeper-priced assets.
    mapping(address asset => address pool) public priceSource;

    event PriceUpdated(address indexed asset, uint256 price, address indexed feeder);
    event PriceSourceSet(address indexed asset, address indexed pool);

    error PriceNotSet(address asset);
    error InvalidPrice();

    function initialize(address admin, address guardian, address feeder) external initializer {
        if (feeder == address(0)) revert ZeroAddress();
        __Protected_init(admin, guardian);
        _grantRole(ORACLE_ROLE, feeder);
    }

    function setPrice(address asset, uint256 newPrice) external onlyRole(ORACLE_ROLE) guarded {
        if (asset == address(0)) revert ZeroAddress();
        if (newPrice == 0 || newPrice > type(uint192).max) revert InvalidPrice();
        _quotes[asset] = Quote(uint192(newPrice), uint64(block.timestamp));
        emit PriceUpdated(asset, newPrice, msg.sender);
    }

    /// @notice Prices `asset` from a USD-quoted pool from now on (zero: back to keeper quotes).
    function setPriceSource(address asset, address pool) external onlyRole(ORACLE_ROLE) guarded {
        if (asset == address(0)) revert ZeroAddress();
        priceSource[asset] = pool;
        emit PriceSourceSet(asset, pool);
    }

    /// @notice Pool-sourced assets use the pool's time-weighted price over TWAP_WINDOW, or the
    ///         keeper's quote while the pool has less history than that.
    function price(address asset) external view returns (uint256) {
        address pool = priceSource[asset];
        if (pool != address(0)) {
            try IPricePool(pool).twap(asset, TWAP_WINDOW) returns (uint256 twapPrice) {
                return twapPrice;
            } catch {}
        }
        Quote memory q = _quotes[asset];
        if (q.price == 0) revert PriceNotSet(asset);
        return q.price;
    }

    /// @notice Price and the time it was posted, for consumers that enforce freshness.
    function latest(address asset) external view returns (uint256 price_, uint256 updatedAt) {
        Quote memory q = _quotes[asset];
        if (q.price == 0) revert PriceNotSet(asset);
        return (q.price, q.updatedAt);
    }
}
