"""A local signing key that never shows itself (repr, logs, tracebacks)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from eth_account import Account
from eth_account.signers.local import LocalAccount

from bulwark.domain.chain import Address
from bulwark.logs import register_secret


class Signer:
    """Holds one private key and signs transactions with it."""

    __slots__ = ("_account",)

    def __init__(self, private_key: str | bytes) -> None:
        key_hex = private_key.hex() if isinstance(private_key, bytes) else private_key
        register_secret(key_hex.removeprefix("0x"))
        self._account: LocalAccount = Account.from_key(private_key)

    @property
    def address(self) -> Address:
        return Address(self._account.address)

    def sign_transaction(self, tx: Mapping[str, Any]) -> bytes:
        """The signed, RLP-encoded transaction, ready for ``eth_sendRawTransaction``."""
        return bytes(self._account.sign_transaction(dict(tx)).raw_transaction)

    def __repr__(self) -> str:
        return f"Signer({self.address})"

    __str__ = __repr__

    def __reduce__(self) -> Any:
        raise TypeError("a Signer holds a private key and cannot be pickled")
