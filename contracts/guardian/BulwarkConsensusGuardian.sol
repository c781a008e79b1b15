// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.26;

import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";
import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import {BulwarkGuardian, IEmergencyPausable} from "./BulwarkGuardian.sol";

/// @title BulwarkConsensusGuardian
/// @notice The guardian with a k-of-n sentinel mode. With `threshold` >= 2 no sentinel can act
///         alone: a pause needs `threshold` distinct sentinels' EIP-712 signatures over
///         (target, selectors, findingId, deadline), gathered off-chain and submitted in one
///         transaction by anyone. The owner may let a single sentinel still pause on a finding it
///         declares critical (`singleCritical`), a trade of safety against speed made per policy.
/// @dev Every action still goes through `_authorizeEmergency`, the base contract's single gate:
///      the consensus path marks the one action the signatures approved (transient storage) and
///      the gate lets exactly that action through. Rights expiry and the protected-target
///      registry apply to both paths.
contract BulwarkConsensusGuardian is BulwarkGuardian, EIP712 {
    bytes32 public constant PAUSE_TYPEHASH =
        keccak256("Pause(address target,bytes4[] selectors,bytes32 findingId,uint256 deadline)");
    /// @notice A signature may not be valid for longer than this (it is an emergency, not a mandate).
    uint256 public constant MAX_SIGNATURE_WINDOW = 1 days;

    /// @notice Distinct sentinel signatures a pause needs; 0 or 1 keeps the single-sentinel mode.
    uint8 public threshold;
    /// @notice In consensus mode, whether one sentinel may still pause on a critical finding.
    bool public singleCritical;
    /// @notice Number of enabled sentinels (a threshold above it could never be met).
    uint256 public sentinelCount;
    /// @notice Approvals already used: the same signatures cannot re-pause after governance resumes.
    mapping(bytes32 digest => bool) public consumed;

    // Fixed transient-storage slots (cleared before each call returns): the approved action, the critical flag.
    bytes32 private constant _APPROVED_SLOT = 0x5a3c1e8b8e0e2f1a6b7ad01dbcd5b58a3a0c1c1ee7d8b8f38a1d7d0a5cc2a9f1;
    bytes32 private constant _CRITICAL_SLOT = 0x3f4b0c57a6f9f9d1e6bb1d1e1c6c7a4e1e8d59c2f0a5d8be4d6b0b9a1c3e7d22;

    event ConsensusSet(uint8 threshold, bool singleCritical);
    event ConsensusPause(address indexed target, bytes32 indexed findingId, address[] signers, address submitter);
    event CriticalPause(address indexed target, bytes32 indexed findingId, address indexed sentinel);

    error ConsensusRequired(uint8 threshold);
    error SingleCriticalDisabled();
    error SignatureExpired(uint256 deadline);
    error DeadlineTooFar(uint256 deadline);
    error NotEnoughSignatures(uint256 valid, uint8 threshold);
    error SignerNotSentinel(address signer);
    error SignersNotSorted();
    error AlreadyConsumed(bytes32 digest);
    error ThresholdTooHigh(uint8 threshold, uint256 sentinels);
    error ActionNotApproved();

    constructor(address owner_, uint64 duration)
        BulwarkGuardian(owner_, duration)
        EIP712("BulwarkGuardian", "1")
    {}

    // ----------------------------------------------------------------- owner (the timelock)

    /// @notice Choose the mode: `threshold_` of the sentinels must sign (0/1: any one sentinel acts).
    function setConsensus(uint8 threshold_, bool singleCritical_) external onlyOwner {
        if (threshold_ > sentinelCount) revert ThresholdTooHigh(threshold_, sentinelCount);
        threshold = threshold_;
        singleCritical = singleCritical_;
        emit ConsensusSet(threshold_, singleCritical_);
    }

    /// @notice Count sentinels as they are enabled or dropped (never below the threshold).
    function _sentinelChanged(bool was, bool enabled) internal override {
        if (was == enabled) return;
        if (enabled) {
            sentinelCount += 1;
        } else {
            if (sentinelCount - 1 < threshold) revert ThresholdTooHigh(threshold, sentinelCount - 1);
            sentinelCount -= 1;
        }
    }

    // ----------------------------------------------------------------- consensus pause

    /// @notice The EIP-712 digest sentinels sign for a pause of `selectors` on `target`
    ///         (no selectors: the whole target).
    function pauseDigest(address target, bytes4[] calldata selectors, bytes32 findingId, uint256 deadline)
        public
        view
        returns (bytes32)
    {
        return _hashTypedDataV4(
            keccak256(
                abi.encode(PAUSE_TYPEHASH, target, keccak256(abi.encodePacked(selectors)), findingId, deadline)
            )
        );
    }

    /// @notice Pause with `signatures` of at least `threshold` distinct sentinels, sorted by signer
    ///         address (ascending). Anyone may submit: the signatures are the authority.
    function pauseWithConsensus(
        address target,
        bytes4[] calldata selectors,
        bytes32 findingId,
        uint256 deadline,
        bytes[] calldata signatures
    ) external {
        if (block.timestamp > deadline) revert SignatureExpired(deadline);
        if (deadline > block.timestamp + MAX_SIGNATURE_WINDOW) revert DeadlineTooFar(deadline);
        bytes32 digest = pauseDigest(target, selectors, findingId, deadline);
        if (consumed[digest]) revert AlreadyConsumed(digest);
        uint8 needed = threshold < 2 ? 1 : threshold;
        if (signatures.length < needed) revert NotEnoughSignatures(signatures.length, needed);
        address[] memory signers = new address[](signatures.length);
        address last = address(0);
        for (uint256 i = 0; i < signatures.length; ++i) {
            address signer = ECDSA.recover(digest, signatures[i]);
            if (!isSentinel[signer]) revert SignerNotSentinel(signer);
            if (signer <= last) revert SignersNotSorted();
            signers[i] = signer;
            last = signer;
        }
        consumed[digest] = true;
        bytes memory action = _action(selectors);
        _setSlot(_APPROVED_SLOT, keccak256(abi.encode(target, action)));
        _pauseTarget(target, selectors, action);
        _setSlot(_APPROVED_SLOT, bytes32(0));
        emit ConsensusPause(target, findingId, signers, msg.sender);
    }

    /// @notice One sentinel pausing on a finding it declares critical: always possible in the
    ///         single-sentinel mode, in consensus mode only if the owner allowed it.
    function pauseCritical(address target, bytes4[] calldata selectors, bytes32 findingId) external {
        if (threshold >= 2 && !singleCritical) revert SingleCriticalDisabled();
        bytes memory action = _action(selectors);
        _setSlot(_CRITICAL_SLOT, bytes32(uint256(1)));
        _pauseTarget(target, selectors, action);
        _setSlot(_CRITICAL_SLOT, bytes32(0));
        emit CriticalPause(target, findingId, msg.sender);
    }

    /// @notice The EIP-712 domain separator (for off-chain signers checking their digest).
    function domainSeparator() external view returns (bytes32) {
        return _domainSeparatorV4();
    }

    // ----------------------------------------------------------------- the gate

    function _authorizeEmergency(address target, bytes memory action) internal override {
        bytes32 approved = _getSlot(_APPROVED_SLOT);
        if (approved != bytes32(0)) {
            // inside pauseWithConsensus: exactly the signed action on the signed target
            if (approved != keccak256(abi.encode(target, action))) revert ActionNotApproved();
            if (!rightsActive()) revert RightsExpired(rightsExpireAt);
            if (!isProtected[target]) revert NotProtected(target);
            return;
        }
        if (threshold >= 2 && _getSlot(_CRITICAL_SLOT) == bytes32(0)) revert ConsensusRequired(threshold);
        super._authorizeEmergency(target, action);
    }

    // ----------------------------------------------------------------- internals

    function _action(bytes4[] calldata selectors) private pure returns (bytes memory) {
        return selectors.length == 0
            ? abi.encodeCall(IEmergencyPausable.pause, ())
            : abi.encodeCall(IEmergencyPausable.pauseSelectors, (selectors));
    }

    function _pauseTarget(address target, bytes4[] calldata selectors, bytes memory action) private {
        _authorizeEmergency(target, action);
        if (selectors.length == 0) {
            emit Paused(target, msg.sender);
            if (!IEmergencyPausable(target).paused()) {
                IEmergencyPausable(target).pause();
            }
        } else {
            emit SelectorsPaused(target, selectors, msg.sender);
            IEmergencyPausable(target).pauseSelectors(selectors);
        }
    }

    function _setSlot(bytes32 slot, bytes32 value) private {
        assembly {
            tstore(slot, value)
        }
    }

    function _getSlot(bytes32 slot) private view returns (bytes32 value) {
        assembly {
            value := tload(slot)
        }
    }
}
