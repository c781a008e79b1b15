// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.26;

import {Initializable} from "@openzeppelin/contracts-upgradeable/proxy/utils/Initializable.sol";
import {UUPSUpgradeable} from "@openzeppelin/contracts-upgradeable/proxy/utils/UUPSUpgradeable.sol";
import {AccessControlUpgradeable} from "@openzeppelin/contracts-upgradeable/access/AccessControlUpgradeable.sol";
import {PausableUpgradeable} from "@openzeppelin/contracts-upgradeable/utils/PausableUpgradeable.sol";
import {SelectorPausableUpgradeable} from "./SelectorPausableUpgradeable.sol";

/// @title ProtectedUpgradeable
/// @notice Base of every demo protocol component: UUPS upgrades gated by UPGRADER_ROLE (the
///         timelock), a whole-contract pause and per-selector pauses that only PAUSER_ROLE (the
///         guardian) can switch on and only DEFAULT_ADMIN_ROLE (the timelock) can switch off.
abstract contract ProtectedUpgradeable is
    Initializable,
    UUPSUpgradeable,
    AccessControlUpgradeable,
    PausableUpgradeable,
    SelectorPausableUpgradeable
{
    bytes32 public constant UPGRADER_ROLE = keccak256("UPGRADER_ROLE");
    bytes32 public constant PAUSER_ROLE = keccak256("PAUSER_ROLE");

    error ZeroAddress();

    /// @custom:oz-upgrades-unsafe-allow constructor
    constructor() {
        _disableInitializers();
    }

    /// @dev Every state-changing user function carries this: it stops on a full pause and on a
    ///      pause of the exact function being called (msg.sig is the outer external selector).
    modifier guarded() {
        _requireNotPaused();
        _requireSelectorNotPaused(msg.sig);
        _;
    }

    // Admin and upgrader start with the same holder (the timelock); the guardian only gets PAUSER.
    function __Protected_init(address admin, address guardian) internal onlyInitializing {
        if (admin == address(0) || guardian == address(0)) revert ZeroAddress();
        __UUPSUpgradeable_init();
        __AccessControl_init();
        __Pausable_init();
        __SelectorPausable_init();
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
        _grantRole(UPGRADER_ROLE, admin);
        _grantRole(PAUSER_ROLE, guardian);
    }

    function pause() external onlyRole(PAUSER_ROLE) {
        _pause();
    }

    function unpause() external onlyRole(DEFAULT_ADMIN_ROLE) {
        _unpause();
    }

    function pauseSelectors(bytes4[] calldata selectors) external onlyRole(PAUSER_ROLE) {
        _pauseSelectors(selectors);
    }

    function unpauseSelectors(bytes4[] calldata selectors) external onlyRole(DEFAULT_ADMIN_ROLE) {
        _unpauseSelectors(selectors);
    }

    function _authorizeUpgrade(address) internal override onlyRole(UPGRADER_ROLE) {}
}
