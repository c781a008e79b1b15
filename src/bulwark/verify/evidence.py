"""The evidence bundle: everything a signer needs to check a verdict, and its canonical hash.

The hashed document holds only what is reproducible: sources and compiler settings, bytecode
hashes, the layout diff, replay results keyed by the original transaction hashes, invariant
results, gas and size figures, the reasons. Timing, ports and temporary paths stay out (they go
in ``Verdict`` side data the CLI may print), so verifying the same candidate twice against the
same chain gives the same hash.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Any

from bulwark.domain.canonical import canonical_json, to_jsonable
from bulwark.domain.verify import Evidence

__all__ = ["EVIDENCE_FORMAT", "make_evidence", "sha256_hex", "verify_evidence"]

EVIDENCE_FORMAT = "bulwark.verify.evidence/1"


def sha256_hex(data: bytes | str) -> str:
    raw = data.encode() if isinstance(data, str) else data
    return "0x" + hashlib.sha256(raw).hexdigest()


def make_evidence(document: Mapping[str, Any]) -> Evidence:
    """Bundle ``document`` and hash its canonical JSON (sha256, ``0x``-prefixed)."""
    doc = {"format": EVIDENCE_FORMAT, **to_jsonable(document)}
    return Evidence(document=doc, hash=sha256_hex(canonical_json(doc)))


def verify_evidence(evidence: Evidence) -> bool:
    """Does the hash match the document? (What a signer runs before approving.)"""
    return sha256_hex(canonical_json(evidence.document)) == evidence.hash
