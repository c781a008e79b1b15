"""The evidence bundle: everything a signer needs to check a verdict, and its canonical hash.

The hashed document holds only what is reproducible: sources and compiler settings, bytecode
hashes, the layout diff, replay results keyed by the original transaction hashes, invariant
results, gas and size figures, the reasons. Timing, ports and temporary paths stay out (they go
in ``Verdict`` side data the CLI may print), so verifying the same candidate twice against the
same chain gives the same hash.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from bulwark.domain.canonical import to_jsonable
from bulwark.domain.evidence import hash_document, sha256_hex
from bulwark.domain.verify import Evidence

__all__ = ["EVIDENCE_FORMAT", "make_evidence", "sha256_hex", "verify_evidence"]

EVIDENCE_FORMAT = "bulwark.verify.evidence/1"


def make_evidence(document: Mapping[str, Any]) -> Evidence:
    """Bundle ``document`` and hash its canonical JSON (sha256, ``0x``-prefixed)."""
    doc = {"format": EVIDENCE_FORMAT, **to_jsonable(document)}
    return Evidence(document=doc, hash=hash_document(doc))


def verify_evidence(evidence: Evidence) -> bool:
    """Does the hash match the document? (What a signer runs before approving.)"""
    return hash_document(evidence.document) == evidence.hash
