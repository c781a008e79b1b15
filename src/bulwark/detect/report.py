"""Findings as plain JSON (for ``--json`` output and scenario reports)."""

from __future__ import annotations

import dataclasses
import enum
from typing import Any

from bulwark.domain import Finding


def _plain(value: Any) -> Any:
    if isinstance(value, enum.IntEnum):  # Severity, Confidence: by name, not number
        return value.name.lower()
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [_plain(v) for v in value]
    return value


def finding_json(finding: Finding) -> dict[str, Any]:
    return {f.name: _plain(getattr(finding, f.name)) for f in dataclasses.fields(finding)}
