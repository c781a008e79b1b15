// SPDX-License-Identifier: MIT
pragma solidity ^0.8.26;

/// @title AllowanceWallet
/// @notice A shared ETH wallet. Members deposit ETH and may hand out signed withdrawal vouchers
///         (EIP-2098 compact signatures, 64 bytes) that the payee redeems before they expire.
contract AllowanceWallet {
    mapping(address => uint256) public balanceOf;
    mapping(address => uint256) public voucherNonce;

    event Deposited(address indexed member, uint256 amount);
    event Withdrawn(address indexed member, address indexed to, uint256 amount);

    function deposit() external payable {
        balanceOf[msg.sender] += msg.value;
        emit Deposited(msg.sender, msg.value);
    }

    function withdraw(uint256 amount) external {
        _pay(msg.sender, payable(msg.sender), amount);
    }

    function voucherDigest(address member, address to, uint256 amount, uint256 expiry)
        public
        view
        returns (bytes32)
    {
        return keccak256(abi.encode(address(this), member, to, amount, expiry, voucherNonce[member]));
    }

    /// @notice Redeem a voucher signed by `member` (compact signature: r, yParity|s).
    function redeem(address member, address payable to, uint256 amount, uint256 expiry, bytes calldata sig)
        external
    {
        require(sig.length == 64, "compact signature expected");
        require(block.timestamp <= expiry, "expired");
        bytes32 r = bytes32(sig[0:32]);
        bytes32 vs = bytes32(sig[32:64]);
        bytes32 s = vs & bytes32(0x7fffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff);
        uint8 v = uint8((uint256(vs) >> 255) + 27);
        require(ecrecover(voucherDigest(member, to, amount, expiry), v, r, s) == member, "bad voucher");
        _pay(member, to, amount);
    }

    /// @notice Void every voucher handed out so far.
    function voidVouchers() external {
        voucherNonce[msg.sender] += 1;
    }

    function _pay(address member, address payable to, uint256 amount) internal {
        require(balanceOf[member] >= amount, "insufficient");
        balanceOf[member] -= amount;
        (bool ok,) = to.call{value: amount}("");
        require(ok, "send failed");
        emit Withdrawn(member, to, amount);
    }
}
