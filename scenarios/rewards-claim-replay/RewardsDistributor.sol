// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.26;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";
import {MessageHashUtils} from "@openzeppelin/contracts/utils/cryptography/MessageHashUtils.sol";
import {ProtectedUpgradeable} from "contracts/protocol/ProtectedUpgradeable.sol";

/// @title RewardsDistributor
/// @notice Pays liquidity-mining rewards computed off chain. Each epoch the rewards service signs
///         one voucher per eligible account, `(account, epoch, amount)`, with the distributor's
///         signer key; anyone may submit a voucher and the reward is paid to `account`.
contract RewardsDistributor is ProtectedUpgradeable {
    using SafeERC20 for IERC20;

    IERC20 public rewardToken;
    address public signer;
    mapping(address account => uint256) public totalClaimed;

    event Claimed(address indexed account, uint256 indexed epoch, uint256 amount);
    event SignerChanged(address indexed previous, address indexed current);

    error InvalidSignature();
    error ZeroAmount();

    function initialize(address token, address signer_, address admin, address guardian) external initializer {
        if (token == address(0) || signer_ == address(0)) revert ZeroAddress();
        __Protected_init(admin, guardian);
        rewardToken = IERC20(token);
        signer = signer_;
    }

    /// @notice Digest the rewards service signs (EIP-191 personal message) for one voucher.
    function voucherDigest(address account, uint256 epoch, uint256 amount) public pure returns (bytes32) {
        return MessageHashUtils.toEthSignedMessageHash(keccak256(abi.encodePacked(account, epoch, amount)));
    }

    /// @notice Pays `amount` of the reward token to `account` against a voucher for `epoch`.
    function claim(address account, uint256 epoch, uint256 amount, bytes calldata signature) external guarded {
        if (amount == 0) revert ZeroAmount();
        if (ECDSA.recover(voucherDigest(account, epoch, amount), signature) != signer) revert InvalidSignature();
        totalClaimed[account] += amount;
        rewardToken.safeTransfer(account, amount);
        emit Claimed(account, epoch, amount);
    }

    /// @notice Rotates the voucher signing key.
    function setSigner(address newSigner) external onlyRole(DEFAULT_ADMIN_ROLE) {
        if (newSigner == address(0)) revert ZeroAddress();
        emit SignerChanged(signer, newSigner);
        signer = newSigner;
    }
}
