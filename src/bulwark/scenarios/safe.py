"""Re-export of :mod:`bulwark.chain.safe` (moved there so governance can share it)."""

from bulwark.chain.safe import (
    DOMAIN_SEPARATOR_TYPEHASH,
    SAFE_TX_TYPEHASH,
    ZERO_ADDRESS,
    Operation,
    SafeArtifact,
    SafeSignature,
    SafeTx,
    checksum,
    domain_separator,
    pack_signatures,
    safe_artifact,
    safe_tx_hash,
    sign_safe_tx,
)

__all__ = [
    "DOMAIN_SEPARATOR_TYPEHASH",
    "SAFE_TX_TYPEHASH",
    "ZERO_ADDRESS",
    "Operation",
    "SafeArtifact",
    "SafeSignature",
    "SafeTx",
    "checksum",
    "domain_separator",
    "pack_signatures",
    "safe_artifact",
    "safe_tx_hash",
    "sign_safe_tx",
]
