// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.26;

import {Initializable} from "@openzeppelin/contracts-upgradeable/proxy/utils/Initializable.sol";
import {UUPSUpgradeable} from "@openzeppelin/contracts-upgradeable/proxy/utils/UUPSUpgradeable.sol";
import {AccessControlUpgradeable} from "@openzeppelin/contracts-upgradeable/access/AccessControlUpgradeable.sol";
import {PausableUpgradeable} from "@openzeppelin/contracts-upgradeable/utils/PausableUpgradeable.sol";
import {SelectorPausableUpgradeable} from "./SelectorPausableUpgradeable.sol";
import {OutflowLimiterUpgradeable} from "./OutflowLimiterUpgradeable.sol";

/// @title ProtectedUpgradeable
/// @notice Base of every demo protocol component: UUPS upgrades gated by UPGRADER_ROLE (the
///         timelock), a whole-contract pause and per-selector pauses that only PAUSER_ROLE (the
///         guardian) can switch on and only DEFAULT_ADMIN_ROLE (the timelock) can switch off.
///         The same split holds for the account blocklist (block: pauser; unblock: admin) and for
///         the per-asset outflow limit (tighten/trip: pauser; configure/reset: admin).
abstract contract ProtectedUpgradeable is
    Initializable,
    UUPSUpgradeable,
    AccessControlUpgradeable,
    PausableUpgradeable,
    SelectorPausableUpgradeable,
    OutflowLimiterUpgradeable
{
    bytes32 public constant UPGRADER_ROLE = keccak256("UPGRADER_ROLE");
    bytes32 public constant PAUSER_ROLE = keccak256("PAUSER_ROLE");

    error ZeroAddress();
    error AccountBlocked(address account);

    event Blocked(address indexed account, address by);
    event Unblocked(address indexed account, address by);

    /// @custom:storage-location erc7201:bulwark.storage.Blocklist
    struct BlocklistStorage {
        mapping(address account => bool) blocked;
    }

    // keccak256(abi.encode(uint256(keccak256("bulwark.storage.Blocklist")) - 1)) & ~bytes32(uint256(0xff))
    bytes32 private constant BLOCKLIST_STORAGE_LOCATION =
        0xcd558b29e703dd33e1173524251d2de6dfb7771a8f10d61e36367a33cc9fe700;

    /// @custom:oz-upgrades-unsafe-allow constructor
    constructor() {
        _disableInitializers();
    }

    /// @dev Every state-changing user function carries this: it stops on a full pause and on a
    ///      pause of the exact function being called (msg.sig is the outer external selector),
    ///      and for a blocked caller (the guardian blocks an attacker's key and its contracts).
    modifier guarded() {
        _requireNotPaused();
        _requireSelectorNotPaused(msg.sig);
        _requireNotBlocked();
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

    // ----------------------------------------------------------------- blocklist

    function setBlocked(address account) external onlyRole(PAUSER_ROLE) {
        if (account == address(0)) revert ZeroAddress();
        _getBlocklistStorage().blocked[account] = true;
        emit Blocked(account, msg.sender);
    }

    function unblock(address account) external onlyRole(DEFAULT_ADMIN_ROLE) {
        _getBlocklistStorage().blocked[account] = false;
        emit Unblocked(account, msg.sender);
    }

    function isBlocked(address account) public view returns (bool) {
        return _getBlocklistStorage().blocked[account];
    }

    // ----------------------------------------------------------------- outflow limits

    function setOutflowLimit(address asset, uint16 maxBps, uint32 window) external onlyRole(DEFAULT_ADMIN_ROLE) {
        _setOutflowLimit(asset, maxBps, window);
    }

    function resetOutflowLimit(address asset) external onlyRole(DEFAULT_ADMIN_ROLE) {
        _resetOutflowLimit(asset);
    }

    function tightenOutflowLimit(address asset, uint16 maxBps, uint32 window) external onlyRole(PAUSER_ROLE) {
        _tightenOutflowLimit(asset, maxBps, window);
    }

    function tripOutflowLimit(address asset) external onlyRole(PAUSER_ROLE) {
        _tripOutflowLimit(asset);
    }

    function _requireNotBlocked() internal view {
        if (_getBlocklistStorage().blocked[msg.sender]) revert AccountBlocked(msg.sender);
    }

    function _getBlocklistStorage() private pure returns (BlocklistStorage storage $) {
        assembly {
            $.slot := BLOCKLIST_STORAGE_LOCATION
        }
    }

    function _authorizeUpgrade(address) internal override onlyRole(UPGRADER_ROLE) {}
}
