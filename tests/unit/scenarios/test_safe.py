"""SafeTx hashing and signing, checked against eth-account's EIP-712 and ECDSA recovery."""

from __future__ import annotations

import pytest
from eth_account import Account
from eth_account.messages import encode_typed_data
from eth_utils.crypto import keccak

from bulwark.chain.safe import (
    SAFE_TX_TYPEHASH,
    Operation,
    SafeSignature,
    SafeTx,
    pack_signatures,
    safe_artifact,
    safe_tx_hash,
    sign_safe_tx,
)
from bulwark.domain import Address
from bulwark.errors import SafeError

SAFE = Address("0x5FbDB2315678afecb367f032d93F642f64180aa3")
TARGET = Address("0xe7f1725E7734CE288F8367e1Bb143E90bb3F0512")
KEYS = ["0x" + f"{i:064x}" for i in (7, 8, 9)]


def test_typehash_is_the_safe_v141_constant() -> None:
    # SafeTx typehash as published in Safe.sol v1.4.1.
    assert SAFE_TX_TYPEHASH.hex() == "bb8310d486368db6bd6f849402fdd73ad53d316b5a4b2644ad6efe0f941286d8"


@pytest.mark.parametrize("nonce", [0, 1, 2**64])
@pytest.mark.parametrize("data", [b"", b"\x12\x34\x56\x78" + b"\x00" * 64])
def test_hash_matches_eth_account_eip712(nonce: int, data: bytes) -> None:
    tx = SafeTx(to=TARGET, data=data, nonce=nonce, value=5, operation=Operation.DELEGATECALL)
    signable = encode_typed_data(full_message=tx.typed_data(31337, SAFE))
    expected = keccak(b"\x19" + signable.version + signable.header + signable.body)
    assert safe_tx_hash(tx, 31337, SAFE) == "0x" + expected.hex()


def test_hash_depends_on_chain_safe_and_nonce() -> None:
    tx = SafeTx(to=TARGET, data=b"", nonce=0)
    base = safe_tx_hash(tx, 1, SAFE)
    assert safe_tx_hash(tx, 2, SAFE) != base
    assert safe_tx_hash(tx, 1, TARGET) != base
    assert safe_tx_hash(SafeTx(to=TARGET, data=b"", nonce=1), 1, SAFE) != base


def test_signature_recovers_to_the_owner_with_v_27_or_28() -> None:
    tx = SafeTx(to=TARGET, data=b"\x01", nonce=3)
    sig = sign_safe_tx(tx, 31337, SAFE, KEYS[0])
    assert sig.owner == Account.from_key(KEYS[0]).address
    assert len(sig.signature) == 65 and sig.signature[64] in (27, 28)
    digest = bytes.fromhex(safe_tx_hash(tx, 31337, SAFE)[2:])
    assert Account._recover_hash(digest, signature=sig.signature) == sig.owner


def test_signatures_are_packed_in_ascending_owner_order() -> None:
    tx = SafeTx(to=TARGET, data=b"", nonce=0)
    sigs = [sign_safe_tx(tx, 1, SAFE, k) for k in KEYS]
    packed = pack_signatures(list(reversed(sigs)))
    owners = sorted((s.owner for s in sigs), key=lambda a: int(a, 16))
    by_owner = {s.owner: s.signature for s in sigs}
    assert packed == b"".join(by_owner[o] for o in owners)


def test_duplicate_or_malformed_signatures_are_refused() -> None:
    tx = SafeTx(to=TARGET, data=b"", nonce=0)
    sig = sign_safe_tx(tx, 1, SAFE, KEYS[0])
    with pytest.raises(SafeError, match="same Safe owner"):
        pack_signatures([sig, sig])
    with pytest.raises(SafeError, match="65"):
        pack_signatures([SafeSignature(owner=sig.owner, signature=b"\x00" * 64)])


def test_artifacts_load_from_the_npm_package() -> None:
    safe = safe_artifact("Safe")
    assert any(e.get("name") == "execTransaction" for e in safe.abi)
    assert len(safe.bytecode) > 1000
    with pytest.raises(SafeError, match="unknown Safe artifact"):
        safe_artifact("NotASafe")
