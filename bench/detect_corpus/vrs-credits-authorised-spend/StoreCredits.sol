// SPDX-License-Identifier: MIT
pragma solidity ^0.8.26;

/// @title StoreCredits
/// @notice Prepaid store credit. Balances are kept in the ledger; holders can move credit
///         themselves or authorise a payment off-chain that anyone may relay (gasless checkout).
contract StoreCredits {
    address public issuer;
    mapping(address => uint256) public creditOf;
    uint256 public totalCredit;

    bytes32 public immutable DOMAIN;
    bytes32 private constant PAYMENT =
        keccak256("Payment(address from,address to,uint256 amount,uint256 deadline)");

    constructor(address issuer_) {
        issuer = issuer_;
        DOMAIN = keccak256(abi.encode(keccak256("StoreCredits"), block.chainid, address(this)));
    }

    /// @notice Issue credit to a customer (store top-up).
    function issue(address to, uint256 amount) external {
        require(msg.sender == issuer, "issuer only");
        creditOf[to] += amount;
        totalCredit += amount;
    }

    /// @notice Move credit you hold.
    function move(address to, uint256 amount) external {
        _move(msg.sender, to, amount);
    }

    /// @notice The digest a holder signs to authorise a payment.
    function paymentDigest(address from, address to, uint256 amount, uint256 deadline)
        public
        view
        returns (bytes32)
    {
        return keccak256(abi.encodePacked(DOMAIN, keccak256(abi.encode(PAYMENT, from, to, amount, deadline))));
    }

    /// @notice Relay a payment the holder authorised off-chain.
    function payWithAuthorisation(
        address from,
        address to,
        uint256 amount,
        uint256 deadline,
        uint8 v,
        bytes32 r,
        bytes32 s
    ) external {
        require(block.timestamp <= deadline, "expired");
        address signer = ecrecover(paymentDigest(from, to, amount, deadline), v, r, s);
        require(signer != address(0) && signer == from, "bad authorisation");
        _move(from, to, amount);
    }

    function _move(address from, address to, uint256 amount) internal {
        require(creditOf[from] >= amount, "insufficient credit");
        unchecked {
            creditOf[from] -= amount;
        }
        creditOf[to] += amount;
    }
}
