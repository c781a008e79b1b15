"""Canonical JSON, the one encoding that is hashed, signed or compared: sorted keys, no spaces.

Every hash Bulwark persists or signs goes through :func:`canonical_json`, so the bytes must never
change for a document that was hashed before. Two variants exist on purpose and are kept per call
site: the audit log, evidence and remedy hashes write UTF-8 as is and stringify unknown values
(``ensure_ascii=False``, the default); the intel bundle and consensus signatures, bytecode/AST
fingerprints, signed webhook bodies and the compiler cache key escape to ASCII and refuse unknown
values (:func:`canonical_ascii`), as they always did.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping
from enum import Enum
from typing import Any

__all__ = ["canonical_ascii", "canonical_json", "to_jsonable"]


def canonical_json(value: Any, *, ensure_ascii: bool = False, strict: bool = False) -> str:
    """Sorted keys, no spaces. ``strict``: a value JSON cannot encode raises ``TypeError``
    instead of being written as ``str(value)``."""
    return json.dumps(
        value,
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=ensure_ascii,
        default=None if strict else str,
    )


def canonical_ascii(value: Any) -> bytes:
    """The signed variant, as the bytes to hash or sign: ASCII-escaped, strict."""
    return canonical_json(value, ensure_ascii=True, strict=True).encode()


def to_jsonable(value: Any) -> Any:
    """Dataclasses, enums, tuples, mappings and bytes as plain JSON values (sets sorted, so the
    same document always encodes the same; integral floats as ints)."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: to_jsonable(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, Enum):
        return to_jsonable(value.value)
    if isinstance(value, Mapping):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [to_jsonable(v) for v in value]
    if isinstance(value, set | frozenset):
        return sorted(to_jsonable(v) for v in value)
    if isinstance(value, bytes):
        return "0x" + value.hex()
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value
