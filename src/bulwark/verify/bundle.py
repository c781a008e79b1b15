"""The exported evidence bundle, and the offline check anyone can run on it.

A bundle is what ``bulwark verify --evidence-out`` writes and ``bulwark evidence check`` reads::

    {"format": "bulwark.evidence.bundle/1",
     "evidence_hash": "0x…",                       # the hash in the proposal / timelock salt
     "digests": {"pass": "0x…", "candidate": …},   # sha256 of each document field's canonical JSON
     "document": {…}}                              # the evidence document itself

The evidence hash stays the sha256 of the document's canonical JSON (the one hash the store,
governance and the timelock salt already use), so existing hashes keep their value. The per-field
digests are redundant with it on purpose: they let the check name the field that was altered. A
field edited together with its digest still fails, because the document then no longer hashes to
the evidence hash; whoever also rewrites the evidence hash is caught by comparing it with the hash
in the proposal (``expected``).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bulwark.domain.evidence import hash_document
from bulwark.domain.verify import Evidence
from bulwark.errors import BulwarkError, StoreError, UsageError
from bulwark.store import Store
from bulwark.verify.evidence import EVIDENCE_FORMAT

__all__ = [
    "BUNDLE_FORMAT",
    "BundleCheck",
    "EvidenceMismatch",
    "check_bundle",
    "evidence_bundle",
    "field_digests",
    "load_bundle",
    "stored_bundle",
    "unwrap_bundle",
]

BUNDLE_FORMAT = "bulwark.evidence.bundle/1"
_BUNDLE_KEYS = ("format", "evidence_hash", "digests", "document")
_HASH = re.compile(r"^0x[0-9a-f]{64}$")


class EvidenceMismatch(BulwarkError, ValueError):
    """The bundle does not check out: malformed, altered, or not the evidence the proposal names."""


@dataclass(frozen=True, slots=True)
class BundleCheck:
    """The outcome of :func:`check_bundle`: ``problems`` empty means the bundle checks out."""

    evidence_hash: str  # what the document hashes to
    recorded_hash: str | None  # what the bundle says it hashes to
    passed: bool | None  # the verdict the document records
    problems: tuple[tuple[str, str], ...]  # (field, what is wrong with it)

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def fields(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(f for f, _ in self.problems))

    def raise_if_altered(self, source: object) -> None:
        """One line naming every altered field (:class:`EvidenceMismatch`), when there is one."""
        if self.problems:
            what = "; ".join(f"{field} {message}" for field, message in self.problems)
            raise EvidenceMismatch(f"{source} does not check out: {what}")

    def summary(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "evidence_hash": self.evidence_hash,
            "recorded_hash": self.recorded_hash,
            "passed": self.passed,
            "altered": list(self.fields),
            "problems": [{"field": f, "message": m} for f, m in self.problems],
        }


def field_digests(document: Mapping[str, Any]) -> dict[str, str]:
    """sha256 of each top-level field's canonical JSON."""
    return {str(k): hash_document(v) for k, v in document.items()}


def evidence_bundle(evidence: Evidence) -> dict[str, Any]:
    """The exportable bundle of ``evidence`` (refused when its hash does not recompute)."""
    document = dict(evidence.document)
    digest = hash_document(document)
    if digest != evidence.hash.lower():
        raise EvidenceMismatch(f"the evidence document hashes to {digest}, not to {evidence.hash}")
    return {
        "format": BUNDLE_FORMAT,
        "evidence_hash": digest,
        "digests": field_digests(document),
        "document": document,
    }


def load_bundle(path: Path) -> Any:
    """The JSON in ``path`` (a bundle, or a bare evidence document)."""
    try:
        text = path.read_text()
    except OSError as exc:
        raise UsageError(f"cannot read the evidence bundle {path}: {exc.strerror or exc}") from None
    try:
        return json.loads(text)
    except ValueError as exc:
        raise EvidenceMismatch(f"{path} is not JSON ({exc}): it is not an evidence bundle") from None


def _schema(bundle: Any) -> list[tuple[str, str]]:
    if not isinstance(bundle, Mapping):
        return [("bundle", "is not a JSON object")]
    if bundle.get("format") == EVIDENCE_FORMAT:
        return [
            ("format", "is a bare evidence document, not a bundle: export one with `bulwark evidence export`")
        ]
    problems = [(k, "is missing") for k in _BUNDLE_KEYS if k not in bundle]
    problems += [(str(k), "is not a field of an evidence bundle") for k in bundle if k not in _BUNDLE_KEYS]
    if "format" in bundle and bundle["format"] != BUNDLE_FORMAT:
        problems.append(("format", f"is {bundle['format']!r}, expected {BUNDLE_FORMAT!r}"))
    recorded = bundle.get("evidence_hash")
    if "evidence_hash" in bundle and not (isinstance(recorded, str) and _HASH.match(recorded)):
        problems.append(("evidence_hash", "is not a lower-case 0x-prefixed 32-byte hex hash"))
    digests = bundle.get("digests")
    if "digests" in bundle and not (
        isinstance(digests, Mapping) and all(isinstance(v, str) and _HASH.match(v) for v in digests.values())
    ):
        problems.append(("digests", "is not an object of 0x-prefixed 32-byte hex hashes"))
    document = bundle.get("document")
    if "document" in bundle:
        if not isinstance(document, Mapping):
            problems.append(("document", "is not a JSON object"))
        else:
            if document.get("format") != EVIDENCE_FORMAT:
                problems.append(("document.format", f"is not {EVIDENCE_FORMAT!r}"))
            if not isinstance(document.get("pass"), bool):
                problems.append(("document.pass", "is missing or not true/false"))
    return problems


def check_bundle(bundle: Any, *, expected: str | None = None) -> BundleCheck:
    """Check a bundle offline: its schema, each field against its digest, the document against
    the recorded evidence hash, and that hash against ``expected`` (the proposal's) when given."""
    problems = _schema(bundle)
    document = bundle.get("document") if isinstance(bundle, Mapping) else None
    document = document if isinstance(document, Mapping) else {}
    computed = hash_document(dict(document))
    recorded = bundle.get("evidence_hash") if isinstance(bundle, Mapping) else None
    recorded = recorded if isinstance(recorded, str) else None
    passed = document.get("pass") if isinstance(document.get("pass"), bool) else None
    if problems:
        return BundleCheck(computed, recorded, passed, tuple(problems))

    # The evidence hash decides which side was altered: when the document still hashes to it, a
    # digest that disagrees with its field is the altered part; otherwise the field is.
    intact = computed == recorded
    digests: Mapping[str, str] = bundle["digests"]
    for name, value in document.items():
        want, have = digests.get(name), hash_document(value)
        if want is None:
            problems.append(
                (f"digests.{name}", "is missing")
                if intact
                else (f"document.{name}", "was added after export (it has no digest)")
            )
        elif have != want:
            problems.append(
                (f"digests.{name}", f"was altered: document.{name} hashes to {have}")
                if intact
                else (f"document.{name}", f"was altered: it hashes to {have}, its digest is {want}")
            )
    for name in digests:
        if name not in document:
            problems.append(
                (f"digests.{name}", "names no field of the document")
                if intact
                else (f"document.{name}", "was removed (its digest is in the bundle)")
            )
    if not intact and not problems:
        # Every field matches its digest, yet the whole does not match the recorded hash.
        problems.append(
            (
                "evidence_hash",
                f"the document hashes to {computed}, the bundle records {recorded} (the evidence "
                "hash was altered, or a field together with its digest)",
            )
        )
    if expected is not None and expected.lower() != recorded:
        problems.append(
            ("evidence_hash", f"is {recorded}, the proposal's evidence hash is {expected.lower()}")
        )
    return BundleCheck(computed, recorded, passed, tuple(problems))


def unwrap_bundle(bundle: Any, source: object = "the bundle") -> dict[str, Any]:
    """The evidence document of a bundle that checks out; :class:`EvidenceMismatch` otherwise."""
    check_bundle(bundle).raise_if_altered(source)
    return dict(bundle["document"])


def stored_bundle(store: Store, evidence_hash: str) -> dict[str, Any]:
    """The bundle of the evidence document stored under ``evidence_hash`` (re-hashed first)."""
    key = f"evidence:{evidence_hash.lower()}"
    try:
        kind, _, document = store.artifact(key)
    except StoreError:
        raise EvidenceMismatch(f"no evidence {evidence_hash} in the store") from None
    if kind != "evidence":
        raise EvidenceMismatch(f"{key} in the store is a {kind}, not evidence")
    return evidence_bundle(Evidence(document, evidence_hash.lower()))
