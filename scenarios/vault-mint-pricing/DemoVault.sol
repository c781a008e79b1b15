// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.26;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";
import {ERC20Upgradeable} from "@openzeppelin/contracts-upgradeable/token/ERC20/ERC20Upgradeable.sol";
import {ERC4626Upgradeable} from
    "@openzeppelin/contracts-upgradeable/token/ERC20/extensions/ERC4626Upgradeable.sol";
import {ReentrancyGuardTransientUpgradeable} from
    "@openzeppelin/contracts-upgradeable/utils/ReentrancyGuardTransientUpgradeable.sol";
import {ProtectedUpgradeable} from "contracts/protocol/ProtectedUpgradeable.sol";

/// @title DemoVault
/// @notice ERC-4626 vault over the demo USD token. Entry and exit points (and share transfers) are
///         guarded so the guardian can freeze them; the virtual-share offset of 6 decimals makes
///         the share price robust while the vault is small.
contract DemoVault is ProtectedUpgradeable, ERC4626Upgradeable, ReentrancyGuardTransientUpgradeable {
    function initialize(address asset_, string calldata name_, string calldata symbol_, address admin, address guardian)
        external
        initializer
    {
        if (asset_ == address(0)) revert ZeroAddress();
        __Protected_init(admin, guardian);
        __ERC20_init(name_, symbol_);
        __ERC4626_init(IERC20(asset_));
        __ReentrancyGuardTransient_init();
    }

    function deposit(uint256 assets, address receiver) public override guarded nonReentrant returns (uint256) {
        return super.deposit(assets, receiver);
    }

    function mint(uint256 shares, address receiver) public override guarded nonReentrant returns (uint256) {
        return super.mint(shares, receiver);
    }

    function withdraw(uint256 assets, address receiver, address owner)
        public
        override
        guarded
        nonReentrant
        returns (uint256)
    {
        return super.withdraw(assets, receiver, owner);
    }

    function redeem(uint256 shares, address receiver, address owner)
        public
        override
        guarded
        nonReentrant
        returns (uint256)
    {
        return super.redeem(shares, receiver, owner);
    }

    function transfer(address to, uint256 value) public override(ERC20Upgradeable, IERC20) guarded returns (bool) {
        return super.transfer(to, value);
    }

    function transferFrom(address from, address to, uint256 value)
        public
        override(ERC20Upgradeable, IERC20)
        guarded
        returns (bool)
    {
        return super.transferFrom(from, to, value);
    }

    function _decimalsOffset() internal pure override returns (uint8) {
        return 6;
    }

    /// @dev Share-to-asset conversion for {mint}, {redeem} and the previews. It sits on the hot
    ///      path of every exit, so it is written out with plain arithmetic instead of a 512-bit
    ///      mulDiv; share and asset amounts are bounded by the token supplies.
    function _convertToAssets(uint256 shares, Math.Rounding rounding) internal view override returns (uint256 assets) {
        uint256 supply = totalSupply() + 10 ** _decimalsOffset();
        unchecked {
            uint256 scaled = shares * (totalAssets() + 1);
            assets = scaled / supply;
            if (Math.unsignedRoundsUp(rounding) && assets * supply < scaled) {
                assets += 1;
            }
        }
    }
}
