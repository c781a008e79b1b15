// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.26;

import {Ownable} from "@openzeppelin/contracts/access/Ownable.sol";

/// @notice The only functions the guardian ever calls on a protected component.
interface IEmergencyPausable {
    function pause() external;
    function pauseSelectors(bytes4[] calldata selectors) external;
    function paused() external view returns (bool);
    function setBlocked(address account) external;
    function tightenOutflowLimit(address asset, uint16 maxBps, uint32 window) external;
    function tripOutflowLimit(address asset) external;
}

/// @title BulwarkGuardian
/// @notice Holds PAUSER_ROLE on the protected components and lets registered sentinel keys use it.
///         It can pause a registered target or some of its functions, block accounts from its
///         guarded functions and tighten or trip its per-asset outflow limits, and nothing else:
///         there is no unpause, unblock, loosening, upgrade, parameter, withdrawal or arbitrary-call
///         path, so a stolen sentinel key can at worst freeze the protocol until governance (the
///         owner) lifts the restriction.
/// @dev Owned by the TimelockController. Pause rights lapse at `rightsExpireAt` unless the owner
///      renews them, so an emergency power nobody looks after does not stay live forever.
contract BulwarkGuardian is Ownable {
    /// @notice Longest stretch the owner can grant in one renewal.
    uint64 public constant MAX_RIGHTS_DURATION = 365 days;

    mapping(address sentinel => bool) public isSentinel;
    mapping(address target => bool) public isProtected;
    /// @notice Duration granted by the last renewal.
    uint64 public pauseRightsDuration;
    /// @notice Sentinels may act while block.timestamp < rightsExpireAt.
    uint64 public rightsExpireAt;

    event SentinelSet(address indexed sentinel, bool enabled);
    event TargetSet(address indexed target, bool protected_);
    event RightsRenewed(uint64 expiry);
    event Paused(address indexed target, address indexed sentinel);
    event SelectorsPaused(address indexed target, bytes4[] selectors, address indexed sentinel);
    event AccountsBlocked(address indexed target, address[] accounts, address indexed sentinel);
    event OutflowLimitTightened(
        address indexed target, address indexed asset, uint16 maxBps, uint32 window, address sentinel
    );
    event OutflowLimitTripped(address indexed target, address indexed asset, address indexed sentinel);

    error NotSentinel(address account);
    error NotProtected(address target);
    error RightsExpired(uint64 expiredAt);
    error InvalidDuration(uint64 duration);
    error NoSelectors();
    error NoTargets();
    error NoAccounts();
    error ZeroAddress();

    constructor(address owner_, uint64 duration) Ownable(owner_) {
        _renew(duration);
    }

    // ----------------------------------------------------------------- owner (the timelock)

    function setSentinel(address sentinel, bool enabled) external onlyOwner {
        if (sentinel == address(0)) revert ZeroAddress();
        _sentinelChanged(isSentinel[sentinel], enabled);
        isSentinel[sentinel] = enabled;
        emit SentinelSet(sentinel, enabled);
    }

    /// @notice Register (or drop) a component the sentinels may pause.
    function setProtected(address target, bool protected_) external onlyOwner {
        if (target == address(0)) revert ZeroAddress();
        isProtected[target] = protected_;
        emit TargetSet(target, protected_);
    }

    /// @notice Restart the pause rights for `duration` seconds from now (0 revokes them at once).
    function renew(uint64 duration) external onlyOwner {
        _renew(duration);
    }

    // ----------------------------------------------------------------- sentinels

    /// @notice Pause `target` entirely. Pausing an already paused target succeeds without a call,
    ///         so two sentinels racing on the same incident both land.
    function pause(address target) external {
        _authorizeEmergency(target, abi.encodeCall(IEmergencyPausable.pause, ()));
        emit Paused(target, msg.sender);
        if (!IEmergencyPausable(target).paused()) {
            IEmergencyPausable(target).pause();
        }
    }

    /// @notice Pause only the given functions of `target`; the rest keeps working.
    function pauseSelectors(address target, bytes4[] calldata selectors) external {
        if (selectors.length == 0) revert NoSelectors();
        _authorizeEmergency(target, abi.encodeCall(IEmergencyPausable.pauseSelectors, (selectors)));
        emit SelectorsPaused(target, selectors, msg.sender);
        IEmergencyPausable(target).pauseSelectors(selectors);
    }

    /// @notice Pause several targets in one transaction (one incident touching several components).
    function pauseMany(address[] calldata targets) external {
        if (targets.length == 0) revert NoTargets();
        for (uint256 i = 0; i < targets.length; ++i) {
            address target = targets[i];
            _authorizeEmergency(target, abi.encodeCall(IEmergencyPausable.pause, ()));
            emit Paused(target, msg.sender);
            if (!IEmergencyPausable(target).paused()) {
                IEmergencyPausable(target).pause();
            }
        }
    }

    /// @notice Refuse `accounts` (an attacker's key and its contracts) on every guarded function
    ///         of `target`. Only governance can lift it (`unblock` on the target).
    function blockAccounts(address target, address[] calldata accounts) external {
        if (accounts.length == 0) revert NoAccounts();
        for (uint256 i = 0; i < accounts.length; ++i) {
            _authorizeEmergency(target, abi.encodeCall(IEmergencyPausable.setBlocked, (accounts[i])));
        }
        emit AccountsBlocked(target, accounts, msg.sender);
        for (uint256 i = 0; i < accounts.length; ++i) {
            IEmergencyPausable(target).setBlocked(accounts[i]);
        }
    }

    /// @notice Make `target`'s outflow limit on `asset` stricter (the target refuses a looser one).
    function tightenOutflowLimit(address target, address asset, uint16 maxBps, uint32 window) external {
        _authorizeEmergency(
            target, abi.encodeCall(IEmergencyPausable.tightenOutflowLimit, (asset, maxBps, window))
        );
        emit OutflowLimitTightened(target, asset, maxBps, window, msg.sender);
        IEmergencyPausable(target).tightenOutflowLimit(asset, maxBps, window);
    }

    /// @notice Stop every outflow of `asset` from `target` until governance resets the limit.
    function tripOutflowLimit(address target, address asset) external {
        _authorizeEmergency(target, abi.encodeCall(IEmergencyPausable.tripOutflowLimit, (asset)));
        emit OutflowLimitTripped(target, asset, msg.sender);
        IEmergencyPausable(target).tripOutflowLimit(asset);
    }

    /// @notice Whether sentinels can act right now.
    function rightsActive() public view returns (bool) {
        return block.timestamp < rightsExpireAt;
    }

    // ----------------------------------------------------------------- internals

    /// @dev The single gate for every emergency action. A k-of-n sentinel mode overrides this to
    ///      count approvals of `action` on `target` before letting the action through.
    function _authorizeEmergency(address target, bytes memory action) internal virtual {
        action; // part of the hook's signature for the consensus mode; unused by the 1-of-n check
        if (!isSentinel[msg.sender]) revert NotSentinel(msg.sender);
        if (!rightsActive()) revert RightsExpired(rightsExpireAt);
        if (!isProtected[target]) revert NotProtected(target);
    }

    /// @dev Called by `setSentinel` before the registry changes (a consensus mode keeps its count).
    function _sentinelChanged(bool was, bool enabled) internal virtual {}

    function _renew(uint64 duration) private {
        if (duration > MAX_RIGHTS_DURATION) revert InvalidDuration(duration);
        uint64 expiry = uint64(block.timestamp) + duration;
        pauseRightsDuration = duration;
        rightsExpireAt = expiry;
        emit RightsRenewed(expiry);
    }
}
