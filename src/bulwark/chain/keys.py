"""Where the sentinel's key comes from: an environment variable or an encrypted keystore file.

References, never literals, so a configuration file can be shared and logged:

* ``env:NAME``: the hex private key is in the environment variable ``NAME``;
* ``keystore:PATH``: an Ethereum V3 keystore (JSON, scrypt/pbkdf2) decrypted with the password
  given by a second reference, ``env:NAME`` or ``file:PATH`` (the file's content, stripped).

The key and the password are registered as secrets (masked in every log line) the moment they are
read; errors name the reference, never the value.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from bulwark.chain.signer import Signer
from bulwark.errors import ConfigError
from bulwark.logs import register_secret

__all__ = ["load_signer", "read_password"]


def _env(name: str, what: str) -> str:
    value = os.environ.get(name)
    if not value:
        raise ConfigError(f"{what}: environment variable {name} is not set (or empty)")
    return value


def read_password(ref: str, *, base_dir: Path | None = None) -> str:
    """The keystore password from ``env:NAME`` or ``file:PATH``."""
    scheme, _, rest = ref.partition(":")
    if scheme == "env" and rest:
        value = _env(rest, "keystore password")
    elif scheme == "file" and rest:
        path = Path(rest)
        if not path.is_absolute() and base_dir is not None:
            path = base_dir / path
        try:
            value = path.read_text().strip()
        except OSError as exc:
            raise ConfigError(f"keystore password: cannot read {path} ({exc.strerror})") from None
    else:
        raise ConfigError(f"keystore password reference {ref!r} must be env:NAME or file:PATH")
    register_secret(value)
    return value


def load_signer(key_ref: str, *, password_ref: str | None = None, base_dir: Path | None = None) -> Signer:
    """A :class:`Signer` from ``env:NAME`` or ``keystore:PATH`` (with ``password_ref``)."""
    scheme, _, rest = key_ref.partition(":")
    if scheme == "env" and rest:
        key = _env(rest, "sentinel key")
        register_secret(key.removeprefix("0x"))
        try:
            return Signer(key)
        except (ValueError, TypeError):
            raise ConfigError(f"sentinel key: {rest} does not hold a 32-byte hex private key") from None
    if scheme == "keystore" and rest:
        if password_ref is None:
            raise ConfigError("sentinel key: a keystore needs a password reference (env:NAME or file:PATH)")
        path = Path(rest)
        if not path.is_absolute() and base_dir is not None:
            path = base_dir / path
        try:
            keyfile = json.loads(path.read_text())
        except OSError as exc:
            raise ConfigError(f"sentinel key: cannot read keystore {path} ({exc.strerror})") from None
        except json.JSONDecodeError:
            raise ConfigError(f"sentinel key: {path} is not a JSON keystore") from None
        password = read_password(password_ref, base_dir=base_dir)
        from eth_account import Account

        try:
            key_bytes = bytes(Account.decrypt(keyfile, password))
        except (ValueError, KeyError, TypeError):
            # eth-account says "MAC mismatch" for a wrong password; do not echo anything else.
            raise ConfigError(
                f"sentinel key: cannot decrypt keystore {path} (wrong password or damaged file)"
            ) from None
        register_secret(key_bytes.hex())
        return Signer(key_bytes)
    raise ConfigError(f"sentinel key reference {key_ref!r} must be env:NAME or keystore:PATH")
