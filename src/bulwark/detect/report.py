"""Findings as plain JSON (for ``--json`` output and scenario reports): the domain's one codec."""

from __future__ import annotations

from bulwark.domain.finding import finding_to_json as finding_json

__all__ = ["finding_json"]
