"""Secret references: ``env:NAME`` or ``file:PATH``, resolved only when used and masked from then on.

A secret never sits in the configuration model as plain text: the model holds the reference, and
:meth:`SecretRef.resolve` reads the value at the moment it is needed and registers it with
:mod:`bulwark.logs` so no log line can carry it.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import GetCoreSchemaHandler
from pydantic_core import core_schema

from bulwark.errors import ConfigError
from bulwark.logs import register_secret

_PREFIXES = ("env:", "file:")


def is_reference(text: str) -> bool:
    return text.startswith(_PREFIXES)


@dataclass(frozen=True, slots=True)
class SecretRef:
    """A value that may be a secret reference or a literal (e.g. a local RPC URL).

    ``base_dir`` anchors relative ``file:`` paths to the configuration file's directory.
    ``repr``/``str`` never show a resolved value, only the reference (or a mask for literals).
    """

    reference: str
    base_dir: Path | None = None

    @property
    def kind(self) -> str:
        if self.reference.startswith("env:"):
            return "env"
        if self.reference.startswith("file:"):
            return "file"
        return "literal"

    @property
    def _target(self) -> str:
        return self.reference.split(":", 1)[1].strip()

    def problem(self) -> str | None:
        """Why this reference cannot be resolved right now, or ``None`` when it can."""
        if self.kind == "env":
            if not self._target:
                return "empty environment variable name in 'env:'"
            if not os.environ.get(self._target):
                return f"environment variable {self._target} is not set (or empty)"
        elif self.kind == "file":
            path = self._path()
            if not path.is_file():
                return f"secret file {path} does not exist"
            if not path.read_text().strip():
                return f"secret file {path} is empty"
        return None

    def _path(self) -> Path:
        path = Path(self._target).expanduser()
        if not path.is_absolute() and self.base_dir is not None:
            path = self.base_dir / path
        return path

    def resolve(self) -> str:
        """The value, registered as a secret so every later log line masks it."""
        problem = self.problem()
        if problem is not None:
            raise ConfigError(f"cannot resolve secret {self.reference}: {problem}")
        if self.kind == "env":
            value = os.environ[self._target]
        elif self.kind == "file":
            value = self._path().read_text().strip()
        else:
            value = self.reference
        register_secret(value)
        return value

    def __repr__(self) -> str:
        return f"SecretRef({self.reference if self.kind != 'literal' else '***'})"

    __str__ = __repr__

    @classmethod
    def __get_pydantic_core_schema__(
        cls, source: Any, handler: GetCoreSchemaHandler
    ) -> core_schema.CoreSchema:
        def parse(value: Any) -> SecretRef:
            if isinstance(value, SecretRef):
                return value
            if not isinstance(value, str) or not value.strip():
                raise ValueError("expected a non-empty string (a value, env:NAME or file:PATH)")
            return SecretRef(value.strip())

        return core_schema.no_info_plain_validator_function(
            parse, serialization=core_schema.plain_serializer_function_ser_schema(lambda s: s.reference)
        )
