"""A Finding as JSON: the one codec, for the store's records and audit log, ``--json`` output,
scenario reports, the bus between processes and consensus requests.

Keys written (all of them, always):

============  =================================================================================
detector      the detector's name
class         the :class:`VulnClass` value (``"reentrancy"``)
severity      the :class:`Severity` name in lower case (``"critical"``)
confidence    the :class:`Confidence` name in lower case (``"high"``)
title         one line for humans
protocol      the protocol's name in the configuration
contract      the target's address, or ``null``
tx_hash       the transaction judged, or ``null``
pending       whether it was judged before inclusion
block_number  the block it was mined in, or ``null``
function      the 4-byte selector of the function attacked, or ``null``
action        the :class:`Action` value the detector recommends (``"pause"``)
selectors     the selectors to pause, a list
evidence      the detector's evidence, an object of JSON values
============  =================================================================================

``"class"`` is the key databases and audit logs already hold. The field name ``"vuln_class"``
is read too: ``--json`` output, scenario reports and bus messages carried it before there was
one codec. ``finding_from_json(finding_to_json(f)) == f`` for every finding whose evidence is made
of JSON values (lists, not tuples).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from bulwark.domain.canonical import to_jsonable
from bulwark.domain.chain import Address, Selector, TxHash
from bulwark.domain.incident import Action, Confidence, Finding, Severity, VulnClass
from bulwark.errors import BulwarkError

__all__ = ["FINDING_KEYS", "FindingFormatError", "finding_from_json", "finding_to_json"]

FINDING_KEYS = (
    "detector",
    "class",
    "severity",
    "confidence",
    "title",
    "protocol",
    "contract",
    "tx_hash",
    "pending",
    "block_number",
    "function",
    "action",
    "selectors",
    "evidence",
)
_LEGACY_CLASS_KEY = "vuln_class"


class FindingFormatError(BulwarkError, ValueError):
    """A finding record that this codec did not write (or that was altered since)."""


def finding_to_json(f: Finding) -> dict[str, Any]:
    """``f`` as a JSON object with the keys of :data:`FINDING_KEYS`, in that order."""
    return {
        "detector": f.detector,
        "class": f.vuln_class.value,
        "severity": f.severity.name.lower(),
        "confidence": f.confidence.name.lower(),
        "title": f.title,
        "protocol": f.protocol,
        "contract": f.contract,
        "tx_hash": f.tx_hash,
        "pending": f.pending,
        "block_number": f.block_number,
        "function": f.function,
        "action": f.action.value,
        "selectors": list(f.selectors),
        "evidence": to_jsonable(f.evidence),
    }


def finding_from_json(data: Mapping[str, Any]) -> Finding:
    """The finding back from :func:`finding_to_json`'s object (or the older ``vuln_class`` form).

    Keys other than those of :data:`FINDING_KEYS` are ignored (the store adds ``id`` and
    ``withdrawn``; scenario reports add ``before_inclusion``)."""

    def bad(key: str, why: str) -> FindingFormatError:
        return FindingFormatError(
            f"finding record: {key!r} {why}; it was not written by Bulwark's finding codec "
            "(bulwark.domain.finding) or was altered since"
        )

    def text(key: str) -> str:
        value = data.get(key)
        if not isinstance(value, str):
            raise bad(key, "is missing or not a string")
        return value

    def optional(key: str) -> str | None:
        value = data.get(key)
        if value is not None and not isinstance(value, str):
            raise bad(key, "is not a string or null")
        return value or None

    class_key = "class" if "class" in data else _LEGACY_CLASS_KEY
    class_name = text(class_key)
    try:
        vuln_class = VulnClass(class_name)
    except ValueError:
        raise bad(class_key, f"names no vulnerability class ({class_name!r})") from None
    try:
        severity = Severity.parse(text("severity"))
    except ValueError as exc:
        raise bad("severity", str(exc)) from None
    try:
        confidence = Confidence[text("confidence").upper()]
    except KeyError:
        raise bad("confidence", f"names no confidence ({data.get('confidence')!r})") from None
    try:
        action = Action(data.get("action") or Action.ALERT.value)
    except ValueError:
        raise bad("action", f"names no action ({data.get('action')!r})") from None
    block = data.get("block_number")
    if block is not None and (not isinstance(block, int) or isinstance(block, bool)):
        raise bad("block_number", "is not an integer or null")
    selectors = data.get("selectors") or []
    if not isinstance(selectors, list | tuple) or not all(isinstance(s, str) for s in selectors):
        raise bad("selectors", "is not a list of strings")
    evidence = data.get("evidence") or {}
    if not isinstance(evidence, Mapping):
        raise bad("evidence", "is not an object")
    contract, tx_hash, function = optional("contract"), optional("tx_hash"), optional("function")
    return Finding(
        detector=text("detector"),
        vuln_class=vuln_class,
        severity=severity,
        confidence=confidence,
        title=text("title"),
        protocol=text("protocol"),
        contract=Address(contract) if contract else None,
        tx_hash=TxHash(tx_hash) if tx_hash else None,
        pending=bool(data.get("pending")),
        block_number=block,
        function=Selector(function) if function else None,
        action=action,
        selectors=tuple(Selector(s) for s in selectors),
        evidence=dict(evidence),
    )
