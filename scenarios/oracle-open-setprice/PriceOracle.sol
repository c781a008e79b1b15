// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.26;

import {ProtectedUpgradeable} from "contracts/protocol/ProtectedUpgradeable.sol";
import {IPriceOracle} from "contracts/protocol/IPriceOracle.sol";

/// @title PriceOracle
/// @notice Push oracle: a keeper holding ORACLE_ROLE posts USD prices (18 decimals per 1e18 units).
///         Keepers usually refresh every listed asset at once through {setPrices}.
contract PriceOracle is ProtectedUpgradeable, IPriceOracle {
    bytes32 public constant ORACLE_ROLE = keccak256("ORACLE_ROLE");

    struct Quote {
        uint192 price;
        uint64 updatedAt;
    }

    mapping(address asset => Quote) private _quotes;

    event PriceUpdated(address indexed asset, uint256 price, address indexed feeder);

    error PriceNotSet(address asset);
    error InvalidPrice();
    error LengthMismatch();

    function initialize(address admin, address guardian, address feeder) external initializer {
        if (feeder == address(0)) revert ZeroAddress();
        __Protected_init(admin, guardian);
        _grantRole(ORACLE_ROLE, feeder);
    }

    /// @notice Posts a batch of prices in one transaction (one keeper round).
    function setPrices(address[] calldata assets, uint256[] calldata newPrices)
        external
        onlyRole(ORACLE_ROLE)
        guarded
    {
        if (assets.length != newPrices.length) revert LengthMismatch();
        for (uint256 i = 0; i < assets.length; ++i) {
            setPrice(assets[i], newPrices[i]);
        }
    }

    /// @notice Posts the price of one asset; {setPrices} reuses it for every entry of a round.
    function setPrice(address asset, uint256 newPrice) public guarded {
        if (asset == address(0)) revert ZeroAddress();
        if (newPrice == 0 || newPrice > type(uint192).max) revert InvalidPrice();
        _quotes[asset] = Quote(uint192(newPrice), uint64(block.timestamp));
        emit PriceUpdated(asset, newPrice, msg.sender);
    }

    function price(address asset) external view returns (uint256) {
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
