// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.26;

import {Initializable} from "@openzeppelin/contracts-upgradeable/proxy/utils/Initializable.sol";

/// @title SelectorPausableUpgradeable
/// @notice Pause individual external functions (by selector) instead of the whole contract, so a
///         circuit breaker can stop the exploited entry point while the rest keeps serving users.
/// @dev State lives in an ERC-7201 namespaced slot so that a patched implementation can add or
///      reorder its own variables without colliding with the pause bits.
abstract contract SelectorPausableUpgradeable is Initializable {
    /// @custom:storage-location erc7201:bulwark.storage.SelectorPausable
    struct SelectorPausableStorage {
        mapping(bytes4 selector => bool) paused;
    }

    // keccak256(abi.encode(uint256(keccak256("bulwark.storage.SelectorPausable")) - 1)) & ~bytes32(uint256(0xff))
    bytes32 private constant SELECTOR_PAUSABLE_STORAGE_LOCATION =
        0xdf6ca6813ad7789812b29bf2b147ee5d7108003e37df781a584600ad79a24b00;

    event SelectorsPaused(bytes4[] selectors, address account);
    event SelectorsUnpaused(bytes4[] selectors, address account);

    error SelectorIsPaused(bytes4 selector);
    error NoSelectors();

    function _getSelectorPausableStorage() private pure returns (SelectorPausableStorage storage $) {
        assembly {
            $.slot := SELECTOR_PAUSABLE_STORAGE_LOCATION
        }
    }

    function __SelectorPausable_init() internal onlyInitializing {}

    function __SelectorPausable_init_unchained() internal onlyInitializing {}

    /// @notice Whether calls to `selector` are currently refused.
    function isSelectorPaused(bytes4 selector) public view virtual returns (bool) {
        return _getSelectorPausableStorage().paused[selector];
    }

    function _requireSelectorNotPaused(bytes4 selector) internal view virtual {
        if (_getSelectorPausableStorage().paused[selector]) revert SelectorIsPaused(selector);
    }

    /// @dev Idempotent: pausing an already paused selector is not an error, so a resent emergency
    ///      transaction never fails for having been beaten by an earlier one.
    function _pauseSelectors(bytes4[] calldata selectors) internal virtual {
        if (selectors.length == 0) revert NoSelectors();
        SelectorPausableStorage storage $ = _getSelectorPausableStorage();
        for (uint256 i = 0; i < selectors.length; ++i) {
            $.paused[selectors[i]] = true;
        }
        emit SelectorsPaused(selectors, msg.sender);
    }

    function _unpauseSelectors(bytes4[] calldata selectors) internal virtual {
        if (selectors.length == 0) revert NoSelectors();
        SelectorPausableStorage storage $ = _getSelectorPausableStorage();
        for (uint256 i = 0; i < selectors.length; ++i) {
            $.paused[selectors[i]] = false;
        }
        emit SelectorsUnpaused(selectors, msg.sender);
    }
}
