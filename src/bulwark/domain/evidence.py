"""A verdict as its evidence document records it: what governance and execution trust.

A proposal never trusts a verdict object handed to it: it reads the evidence document back from
the store (whose canonical-JSON sha256 must be the evidence hash) and takes from it whether the
verification passed, why not, and which code it verified (its runtime code's sha256 with the
immutables zeroed, and where they are: ``bulwark.chain.bytecode.runtime_is_verified``).
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from bulwark.domain.canonical import canonical_json

__all__ = ["RecordedVerdict", "hash_document", "sha256_hex"]


def sha256_hex(data: bytes | str) -> str:
    """sha256, ``0x``-prefixed hex (a str is hashed as its UTF-8 bytes)."""
    raw = data.encode() if isinstance(data, str) else data
    return "0x" + hashlib.sha256(raw).hexdigest()


def hash_document(document: Any) -> str:
    """The hash of a document as Bulwark binds it (an evidence document, any stored artifact):
    the sha256 of its canonical JSON. Every place that computes or checks one calls this."""
    return sha256_hex(canonical_json(document))


def _reason_text(r: Any) -> str:
    if isinstance(r, Mapping):
        return str(r.get("message") or r.get("code") or r)
    return str(r)


@dataclass(frozen=True, slots=True)
class RecordedVerdict:
    """The parts of an evidence document a proposal is checked against."""

    evidence_hash: str
    passed: bool
    reasons: tuple[str, ...]
    kind: str  # "code" (a candidate implementation) or "parameters" (setter calls)
    candidate_contract: str | None
    creation_code_sha256: str | None
    runtime_code_sha256: str | None
    immutable_ranges: tuple[tuple[int, int], ...]
    calls: tuple[tuple[str, str], ...]  # parameters: (target, calldata), lower-case

    @classmethod
    def from_document(cls, evidence_hash: str, document: Mapping[str, Any]) -> RecordedVerdict:
        cand = document.get("candidate")
        cand = cand if isinstance(cand, Mapping) else {}
        remedy = document.get("remedy")
        remedy = remedy if isinstance(remedy, Mapping) else {}
        fatal = [
            r for r in document.get("reasons") or () if not isinstance(r, Mapping) or r.get("fatal", True)
        ]
        ranges = tuple(
            (int(s), int(n)) for s, n in cand.get("immutable_ranges") or () if int(s) >= 0 and int(n) > 0
        )
        calls = tuple(
            (str(c.get("target", "")).lower(), str(c.get("data", "")).lower())
            for c in remedy.get("calls") or ()
            if isinstance(c, Mapping)
        )

        def opt(v: Any) -> str | None:
            return str(v).lower() if v else None

        return cls(
            evidence_hash=evidence_hash.lower(),
            passed=document.get("pass") is True,
            reasons=tuple(_reason_text(r) for r in fatal),
            kind="parameters" if remedy.get("kind") == "parameters" else "code",
            candidate_contract=str(cand["contract"]) if cand.get("contract") else None,
            creation_code_sha256=opt(cand.get("creation_code_sha256")),
            runtime_code_sha256=opt(cand.get("runtime_code_sha256")),
            immutable_ranges=ranges,
            calls=calls,
        )

    def summary(self) -> dict[str, Any]:
        """What the dashboard and the CLI show beside the evidence hash."""
        return {
            "evidence_hash": self.evidence_hash,
            "passed": self.passed,
            "reasons": list(self.reasons),
            "kind": self.kind,
            "candidate": self.candidate_contract,
            "candidate_runtime_sha256": self.runtime_code_sha256,
        }
