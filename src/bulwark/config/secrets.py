"""Secret references, the one way Bulwark reads a secret (configuration fields and CLI options alike).

A secret never sits in the configuration as plain text, only a reference to where it is:

* ``env:NAME``: the value of the environment variable ``NAME``;
* ``file:PATH``: the file's content, stripped (a relative path is relative to the configuration
  file's folder, or to the working directory for a command-line option);
* ``keystore:PATH`` (private keys only): an Ethereum V3 keystore JSON. Its password is a reference
  too, given beside it: the field ``<name>_password`` in the configuration (``sentinel_key`` ->
  ``sentinel_password``), ``--password`` on the command line. A ``file:`` holding a keystore JSON
  works the same way.

Fields typed :data:`Secret` or :data:`KeyRef` refuse anything else with one line naming the field;
only :data:`UrlOrRef` (RPC endpoints, the database URL) also takes a literal. A value is read when it
is needed, never at load time, and is registered with :mod:`bulwark.logs` the moment it is read, so
no log line can carry it; ``repr``/``str`` show the reference only, errors name it, never the value.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

from pydantic import GetCoreSchemaHandler, PlainSerializer, PlainValidator, ValidationInfo, WithJsonSchema
from pydantic_core import PydanticCustomError, core_schema

from bulwark.errors import ConfigError
from bulwark.logs import register_secret

__all__ = [
    "KEY_SCHEMES",
    "SECRET_SCHEMES",
    "KeyRef",
    "Secret",
    "SecretRef",
    "UrlOrRef",
    "keystore_problems",
    "parse_reference",
]

SECRET_SCHEMES = ("env", "file")
KEY_SCHEMES = ("env", "file", "keystore")
# parse_config passes the configuration file's folder under this validation-context key.
BASE_DIR_CONTEXT = "base_dir"


def _scheme_of(reference: str) -> str:
    scheme, sep, _ = reference.partition(":")
    return scheme if sep and scheme in KEY_SCHEMES else "literal"


def _hint(schemes: tuple[str, ...]) -> str:
    forms = {"env": "env:NAME", "file": "file:PATH", "keystore": "keystore:PATH"}
    names = [forms[s] for s in schemes]
    return ", ".join(names[:-1]) + " or " + names[-1] if len(names) > 1 else names[0]


@dataclass(frozen=True, slots=True)
class SecretRef:
    """Where a secret is (``env:``/``file:``/``keystore:``), or a literal where one is allowed.

    ``base_dir`` anchors relative ``file:``/``keystore:`` paths.
    """

    reference: str
    base_dir: Path | None = None

    @property
    def kind(self) -> str:
        return _scheme_of(self.reference)

    @property
    def _target(self) -> str:
        return self.reference.split(":", 1)[1].strip()

    def anchored(self, base_dir: Path | None) -> SecretRef:
        return self if base_dir is None or self.base_dir is not None else replace(self, base_dir=base_dir)

    def _path(self) -> Path:
        path = Path(self._target).expanduser()
        if not path.is_absolute() and self.base_dir is not None:
            path = self.base_dir / path
        return path

    def problem(self) -> str | None:
        """Why this reference cannot be read right now, or ``None`` when it can."""
        if self.kind == "env":
            if not self._target:
                return "empty environment variable name in 'env:'"
            if not os.environ.get(self._target):
                return f"environment variable {self._target} is not set (or empty)"
        elif self.kind in ("file", "keystore"):
            path = self._path()
            what = "keystore" if self.kind == "keystore" else "secret file"
            if not path.is_file():
                return f"{what} {path} does not exist"
            try:
                if not path.read_text().strip():
                    return f"{what} {path} is empty"
            except OSError as exc:
                return f"cannot read {what} {path} ({exc.strerror or exc})"
        return None

    def resolve(self) -> str:
        """The value, registered as a secret so every later log line masks it."""
        if self.kind == "keystore":
            raise ConfigError(f"{self.reference} is an encrypted key: it is read as a private key only")
        value = self._read()
        register_secret(value)
        return value

    def _read(self) -> str:
        problem = self.problem()
        if problem is not None:
            raise ConfigError(f"cannot resolve secret {self.reference}: {problem}")
        if self.kind == "env":
            return os.environ[self._target]
        if self.kind in ("file", "keystore"):
            return self._path().read_text().strip()
        return self.reference

    def private_key(self, password: SecretRef | None = None) -> str:
        """The ``0x`` hex private key this reference holds: a hex key (``env:``/``file:``), or a V3
        keystore (``keystore:``, or a ``file:`` holding one) decrypted with ``password``."""
        if self.kind == "literal":
            raise ConfigError(
                f"a private key must be a reference ({_hint(KEY_SCHEMES)}), never the key itself"
            )
        raw = self._read()
        if self.kind == "keystore" or raw.lstrip().startswith("{"):
            key = self._decrypt(raw, password)
        else:
            register_secret(raw)
            key = raw if raw.startswith(("0x", "0X")) else "0x" + raw
        register_secret(key)
        register_secret(key[2:])
        try:
            valid = len(bytes.fromhex(key[2:])) == 32
        except ValueError:
            valid = False
        if not valid:
            raise ConfigError(f"{self.reference} does not hold a 32-byte hex private key")
        return key

    def _decrypt(self, raw: str, password: SecretRef | None) -> str:
        from eth_account import Account

        if password is None:
            raise ConfigError(
                f"{self.reference} is a keystore: give its password as a reference ({_hint(SECRET_SCHEMES)})"
            )
        try:
            keyfile = json.loads(raw)
        except json.JSONDecodeError:
            raise ConfigError(f"{self.reference} is not a JSON keystore") from None
        secret = password.resolve()
        try:
            return "0x" + bytes(Account.decrypt(keyfile, secret)).hex()
        except (ValueError, KeyError, TypeError):
            # eth-account says "MAC mismatch" for a wrong password; echo nothing else.
            raise ConfigError(
                f"cannot decrypt keystore {self.reference} (wrong password or damaged file)"
            ) from None

    def __repr__(self) -> str:
        return f"SecretRef({self.reference if self.kind != 'literal' else '***'})"

    __str__ = __repr__

    @classmethod
    def __get_pydantic_core_schema__(
        cls, source: Any, handler: GetCoreSchemaHandler
    ) -> core_schema.CoreSchema:
        # A bare ``SecretRef`` field is a strict :data:`Secret` (env:/file:): inline is refused.
        return core_schema.with_info_plain_validator_function(
            _validator(SECRET_SCHEMES),
            serialization=core_schema.plain_serializer_function_ser_schema(lambda s: s.reference),
        )


def parse_reference(
    value: str, *, field: str, schemes: tuple[str, ...] = SECRET_SCHEMES, base_dir: Path | None = None
) -> SecretRef:
    """A reference given on the command line (``--key``...), or a one-line error naming ``field``."""
    ref = SecretRef(value.strip(), base_dir)
    if ref.kind not in schemes or not ref._target:
        raise ConfigError(f"{field}: an inline secret is refused; give a reference ({_hint(schemes)})")
    return ref


def keystore_problems(model: object, prefixes: tuple[str, ...]) -> None:
    """Fail validation when a ``<prefix>_key`` keystore has no ``<prefix>_password`` beside it."""
    for prefix in prefixes:
        key = getattr(model, f"{prefix}_key")
        if key is not None and key.kind == "keystore" and getattr(model, f"{prefix}_password") is None:
            raise PydanticCustomError(
                "keystore_password",
                "{prefix}_key is a keystore: give {prefix}_password ({hint})",
                {"prefix": prefix, "hint": _hint(SECRET_SCHEMES)},
            )


def _validator(schemes: tuple[str, ...] | None) -> Callable[[Any, ValidationInfo], SecretRef]:
    """Pydantic validation for a reference field; ``schemes=None`` also accepts a literal."""

    def parse(value: Any, info: ValidationInfo) -> SecretRef:
        base_dir = (info.context or {}).get(BASE_DIR_CONTEXT)
        if isinstance(value, SecretRef):
            return value.anchored(base_dir)
        if not isinstance(value, str) or not value.strip():
            raise PydanticCustomError("secret_ref", "expected a non-empty string (a reference)")
        ref = SecretRef(value.strip(), base_dir)
        if schemes is not None and (ref.kind not in schemes or not ref._target):
            # The message never echoes the value: it may be the secret itself.
            raise PydanticCustomError(
                "inline_secret",
                "an inline secret is refused; give a reference ({hint})",
                {"hint": _hint(schemes)},
            )
        return ref

    return parse


def _annotated(schemes: tuple[str, ...] | None) -> Any:
    return Annotated[
        SecretRef,
        PlainValidator(_validator(schemes)),
        PlainSerializer(lambda s: s.reference, return_type=str),
        WithJsonSchema({"type": "string"}),
    ]


if TYPE_CHECKING:  # statically each is a SecretRef; at run time, a SecretRef with its own rules
    Secret = SecretRef
    KeyRef = SecretRef
    UrlOrRef = SecretRef
else:
    # A secret (password, HMAC key, token, webhook URL): env:NAME or file:PATH, never inline.
    Secret = _annotated(SECRET_SCHEMES)
    # A private key: env:NAME, file:PATH (hex or keystore JSON) or keystore:PATH, with a sibling password.
    KeyRef = _annotated(KEY_SCHEMES)
    # An endpoint that may embed an API key: a reference, or a literal URL (masked once read).
    UrlOrRef = _annotated(None)
