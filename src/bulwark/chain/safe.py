"""Safe v1.4.1: the npm build artifacts, SafeTx hashing (EIP-712), signing, signature packing.

Pure and free of anything demo-specific, shared by ``bulwark.scenarios`` and ``bulwark.govern``:

    tx = SafeTx(to=timelock, data=calldata, nonce=await safe_nonce(client, safe))
    sigs = [sign_safe_tx(tx, chain_id, safe, key) for key in keys]
    await exec_safe_tx(client, safe, tx, sigs, sender=relayer)
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import IntEnum
from functools import cache
from pathlib import Path
from typing import Any

from eth_abi.abi import encode
from eth_account import Account
from eth_utils.address import to_checksum_address
from eth_utils.crypto import keccak

from bulwark.domain import Address, Hash32
from bulwark.errors import SafeError
from bulwark.toolchain.paths import node_modules

ZERO_ADDRESS = Address("0x0000000000000000000000000000000000000000")

# Type strings straight from Safe.sol v1.4.1; the typehashes below are derived, not pasted.
_DOMAIN_TYPE = "EIP712Domain(uint256 chainId,address verifyingContract)"
_SAFE_TX_TYPE = (
    "SafeTx(address to,uint256 value,bytes data,uint8 operation,uint256 safeTxGas,uint256 baseGas,"
    "uint256 gasPrice,address gasToken,address refundReceiver,uint256 nonce)"
)
DOMAIN_SEPARATOR_TYPEHASH = keccak(text=_DOMAIN_TYPE)
SAFE_TX_TYPEHASH = keccak(text=_SAFE_TX_TYPE)


class Operation(IntEnum):
    CALL = 0
    DELEGATECALL = 1


@dataclass(frozen=True, slots=True)
class SafeTx:
    """The transaction a Safe executes once enough owners signed its EIP-712 hash.

    Gas refund fields default to "no refund", which also makes a failing inner call revert the
    whole ``execTransaction`` (Safe error GS013) instead of only emitting ExecutionFailure.
    """

    to: Address
    data: bytes
    nonce: int
    value: int = 0
    operation: Operation = Operation.CALL
    safe_tx_gas: int = 0
    base_gas: int = 0
    gas_price: int = 0
    gas_token: Address = ZERO_ADDRESS
    refund_receiver: Address = ZERO_ADDRESS

    def args(self) -> tuple[Any, ...]:
        """Positional arguments of ``execTransaction`` before ``signatures``."""
        return (
            self.to,
            self.value,
            self.data,
            int(self.operation),
            self.safe_tx_gas,
            self.base_gas,
            self.gas_price,
            self.gas_token,
            self.refund_receiver,
        )

    def typed_data(self, chain_id: int, safe: Address) -> dict[str, Any]:
        """EIP-712 message as eth-account's ``sign_typed_data(full_message=...)`` takes it."""
        return {
            "types": {
                "EIP712Domain": [
                    {"name": "chainId", "type": "uint256"},
                    {"name": "verifyingContract", "type": "address"},
                ],
                "SafeTx": [
                    {"name": "to", "type": "address"},
                    {"name": "value", "type": "uint256"},
                    {"name": "data", "type": "bytes"},
                    {"name": "operation", "type": "uint8"},
                    {"name": "safeTxGas", "type": "uint256"},
                    {"name": "baseGas", "type": "uint256"},
                    {"name": "gasPrice", "type": "uint256"},
                    {"name": "gasToken", "type": "address"},
                    {"name": "refundReceiver", "type": "address"},
                    {"name": "nonce", "type": "uint256"},
                ],
            },
            "primaryType": "SafeTx",
            "domain": {"chainId": chain_id, "verifyingContract": safe},
            "message": {
                "to": self.to,
                "value": self.value,
                "data": self.data,
                "operation": int(self.operation),
                "safeTxGas": self.safe_tx_gas,
                "baseGas": self.base_gas,
                "gasPrice": self.gas_price,
                "gasToken": self.gas_token,
                "refundReceiver": self.refund_receiver,
                "nonce": self.nonce,
            },
        }


@dataclass(frozen=True, slots=True)
class SafeSignature:
    owner: Address
    signature: bytes  # r ‖ s ‖ v, 65 bytes, v in {27, 28}


def domain_separator(chain_id: int, safe: Address) -> bytes:
    return keccak(encode(["bytes32", "uint256", "address"], [DOMAIN_SEPARATOR_TYPEHASH, chain_id, safe]))


def safe_tx_hash(tx: SafeTx, chain_id: int, safe: Address) -> Hash32:
    """What the owners sign and ``Safe.getTransactionHash`` returns."""
    struct_hash = keccak(
        encode(
            [
                "bytes32",
                "address",
                "uint256",
                "bytes32",
                "uint8",
                "uint256",
                "uint256",
                "uint256",
                "address",
                "address",
                "uint256",
            ],
            [
                SAFE_TX_TYPEHASH,
                tx.to,
                tx.value,
                keccak(tx.data),
                int(tx.operation),
                tx.safe_tx_gas,
                tx.base_gas,
                tx.gas_price,
                tx.gas_token,
                tx.refund_receiver,
                tx.nonce,
            ],
        )
    )
    digest = keccak(b"\x19\x01" + domain_separator(chain_id, safe) + struct_hash)
    return Hash32("0x" + digest.hex())


def sign_safe_tx(tx: SafeTx, chain_id: int, safe: Address, private_key: str) -> SafeSignature:
    """An owner's EIP-712 signature of ``tx`` (plain ECDSA over the typed-data hash, v = 27/28)."""
    signed = Account.sign_typed_data(private_key, full_message=tx.typed_data(chain_id, safe))
    owner = Address(Account.from_key(private_key).address)
    return SafeSignature(owner=owner, signature=bytes(signed.signature))


def pack_signatures(signatures: Sequence[SafeSignature]) -> bytes:
    """Concatenate signatures in ascending owner order, as ``checkNSignatures`` requires."""
    seen: set[str] = set()
    ordered = sorted(signatures, key=lambda s: int(s.owner, 16))
    for sig in ordered:
        if len(sig.signature) != 65:
            raise SafeError(f"Safe signature of {sig.owner} is {len(sig.signature)} bytes, expected 65")
        if sig.owner.lower() in seen:
            raise SafeError(f"two signatures from the same Safe owner {sig.owner}")
        seen.add(sig.owner.lower())
    return b"".join(s.signature for s in ordered)


# ----------------------------------------------------------------------------- artifacts


@dataclass(frozen=True, slots=True)
class SafeArtifact:
    name: str
    abi: tuple[Mapping[str, Any], ...] = field(repr=False)
    bytecode: bytes = field(repr=False)


_ARTIFACT_PATHS = {
    "Safe": "Safe.sol/Safe.json",
    "SafeProxyFactory": "proxies/SafeProxyFactory.sol/SafeProxyFactory.json",
    "CompatibilityFallbackHandler": (
        "handler/CompatibilityFallbackHandler.sol/CompatibilityFallbackHandler.json"
    ),
    "MultiSendCallOnly": "libraries/MultiSendCallOnly.sol/MultiSendCallOnly.json",
}


def _artifacts_dir() -> Path:
    return node_modules() / "@safe-global" / "safe-contracts" / "build" / "artifacts" / "contracts"


@cache
def safe_artifact(name: str) -> SafeArtifact:
    """ABI and creation code of a Safe v1.4.1 contract from the npm package's build artifacts."""
    rel = _ARTIFACT_PATHS.get(name)
    if rel is None:
        raise SafeError(f"unknown Safe artifact {name!r} (have: {', '.join(_ARTIFACT_PATHS)})")
    path = _artifacts_dir() / rel
    try:
        raw = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise SafeError(f"cannot read Safe artifact {path}: {exc}; run `make setup` (npm ci)") from exc
    code = str(raw.get("bytecode", ""))
    if not code.startswith("0x") or len(code) <= 2:
        raise SafeError(f"Safe artifact {path} has no bytecode")
    return SafeArtifact(name=name, abi=tuple(raw["abi"]), bytecode=bytes.fromhex(code[2:]))


def checksum(address: str) -> Address:
    return Address(to_checksum_address(address))


def split_signatures(blob: bytes) -> list[bytes]:
    """A signer's stored approval: one 65-byte signature per Safe transaction, concatenated."""
    if not blob or len(blob) % 65:
        raise SafeError(f"a signature blob is {len(blob)} bytes, not a multiple of 65")
    return [blob[i : i + 65] for i in range(0, len(blob), 65)]


def recover_signer(digest: str, signature: bytes) -> Address:
    """The address whose key made ``signature`` (r ‖ s ‖ v, v in 27/28) over the 32-byte ``digest``."""
    from eth_keys.datatypes import Signature
    from eth_keys.exceptions import BadSignature
    from eth_utils.exceptions import ValidationError

    if len(signature) != 65 or signature[64] not in (27, 28):
        raise SafeError("not an EIP-712 ECDSA signature (65 bytes, v = 27 or 28)")
    r = int.from_bytes(signature[:32], "big")
    s = int.from_bytes(signature[32:64], "big")
    try:
        sig = Signature(vrs=(signature[64] - 27, r, s))
        return checksum(sig.recover_public_key_from_msg_hash(bytes.fromhex(digest[2:])).to_checksum_address())
    except (BadSignature, ValidationError, ValueError) as exc:
        raise SafeError(f"signature does not recover: {exc}") from exc
