"""STIX 2.1 bundles of indicators, signed by the publisher's key, and their verification.

A bundle holds the publisher's ``identity``, one ``indicator`` per :class:`Indicator` (a STIX
pattern over custom EVM object types plus ``x_evm_*`` properties) and one ``x-bulwark-signature``
object. The signature covers the *canonical bundle hash*: keccak256 of the canonical JSON (sorted
keys, no spaces) of the signed objects, sorted by id; the signature object lists their ids in
``object_refs`` and carries an EIP-191 (``personal_sign``) signature of that hash. Because every
signed object is named, a bundle survives a TAXII server (which stores objects one by one): the
subscriber regroups the objects by signature and re-hashes them.

Verification is all-or-nothing per signature: a missing object, any changed byte, an unknown or
untrusted signer, or a signer other than the one the signature object claims rejects every object
it covers. An expired indicator is rejected alone. Nothing unsigned is ever returned.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import stix2
from eth_account import Account
from eth_account.messages import encode_defunct
from eth_utils.address import to_checksum_address
from eth_utils.crypto import keccak

from bulwark.chain import Signer
from bulwark.domain import Address, VulnClass
from bulwark.domain.canonical import canonical_ascii
from bulwark.errors import BulwarkError
from bulwark.intel.indicators import Indicator, IndicatorKind

__all__ = [
    "IntelError",
    "Rejection",
    "Verified",
    "build_bundle",
    "bundle_hash",
    "pattern_for",
    "verify_objects",
]

SIGNATURE_TYPE = "x-bulwark-signature"
_NAMESPACE = uuid.UUID("5f0c7f8e-6f2b-4d4e-9d0e-b17a4c1e0a11")

_PATTERNS = {
    IndicatorKind.ACCOUNT: ("x-evm-account", "address"),
    IndicatorKind.CODE_HASH: ("x-evm-contract", "code_hash"),
    IndicatorKind.CODE_FINGERPRINT: ("x-evm-contract", "code_fingerprint"),
    IndicatorKind.CALL_PATTERN: ("x-evm-call", "selectors"),
    IndicatorKind.VULNERABLE_CODE: ("x-evm-code", "ast_fingerprint"),
}


class IntelError(BulwarkError, ValueError):
    """A bundle or feed could not be built, read or trusted."""


@stix2.CustomObject(
    SIGNATURE_TYPE,
    [
        (
            "object_refs",
            stix2.properties.ListProperty(
                stix2.properties.ReferenceProperty(invalid_types=["bundle"], spec_version="2.1"),
                required=True,
            ),
        ),
        ("x_evm_publisher", stix2.properties.StringProperty(required=True)),
        ("x_evm_bundle_hash", stix2.properties.StringProperty(required=True)),
        ("x_evm_signature", stix2.properties.StringProperty(required=True)),
        ("x_evm_scheme", stix2.properties.StringProperty(required=True)),
        (
            "x_evm_object_hashes",
            stix2.properties.ListProperty(stix2.properties.StringProperty, required=True),
        ),
    ],
)
class _BundleSignature:
    pass


BundleSignature: Any = _BundleSignature  # built by stix2's decorator; untyped for mypy


def pattern_for(kind: IndicatorKind, value: str) -> str:
    obj, prop = _PATTERNS[kind]
    return f"[{obj}:{prop} = '{value}']"


def _stamp(t: datetime) -> str:
    return t.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")


def bundle_hash(objects: Iterable[Mapping[str, Any]]) -> str:
    """keccak256 of the canonical JSON of ``objects`` sorted by id."""
    ordered = sorted((dict(o) for o in objects), key=lambda o: str(o["id"]))
    return "0x" + keccak(canonical_ascii(ordered)).hex()


def _indicator_obj(ind: Indicator, identity_id: str) -> dict[str, Any]:
    key = f"{identity_id}:{ind.kind.value}:{ind.value}:{ind.chain_id}:{_stamp(ind.valid_from)}"
    obj = stix2.Indicator(
        id=f"indicator--{uuid.uuid5(_NAMESPACE, key)}",
        created=_stamp(ind.valid_from),
        modified=_stamp(ind.valid_from),
        created_by_ref=identity_id,
        name=f"{ind.kind.value} {ind.value[:18]}",
        description=ind.description or ind.kind.value,
        indicator_types=[
            "malicious-activity" if ind.kind is not IndicatorKind.VULNERABLE_CODE else "compromised"
        ],
        pattern=pattern_for(ind.kind, ind.value),
        pattern_type="stix",
        valid_from=_stamp(ind.valid_from),
        valid_until=_stamp(ind.valid_until),
        x_evm_kind=ind.kind.value,
        x_evm_value=ind.value,
        x_evm_chain_id=ind.chain_id,
        x_evm_vuln_class=ind.vuln_class.value if ind.vuln_class else None,
        allow_custom=True,
    )
    return dict(json.loads(obj.serialize()))


def build_bundle(
    indicators: Sequence[Indicator],
    signer: Signer,
    *,
    publisher_name: str = "bulwark",
    incident_id: str | None = None,
) -> dict[str, Any]:
    """A signed STIX 2.1 bundle (a JSON-able dict) of ``indicators``."""
    if not indicators:
        raise IntelError("nothing to publish: no indicators")
    created = _stamp(min(i.valid_from for i in indicators))
    identity = stix2.Identity(
        id=f"identity--{uuid.uuid5(_NAMESPACE, signer.address.lower())}",
        created=created,
        modified=created,
        name=publisher_name,
        identity_class="organization",
        x_evm_publisher=signer.address,
        allow_custom=True,
    )
    objs = [dict(json.loads(identity.serialize()))]
    objs += [_indicator_obj(i, identity.id) for i in indicators]
    digest = bundle_hash(objs)
    signed = signer._account.sign_message(encode_defunct(primitive=bytes.fromhex(digest[2:])))
    sig = BundleSignature(
        id=f"{SIGNATURE_TYPE}--{uuid.uuid5(_NAMESPACE, digest)}",
        created=created,
        modified=created,
        created_by_ref=identity.id,
        object_refs=[o["id"] for o in objs],
        x_evm_object_hashes=[bundle_hash([o]) for o in objs],
        x_evm_publisher=signer.address,
        x_evm_bundle_hash=digest,
        x_evm_signature="0x" + bytes(signed.signature).hex(),
        x_evm_scheme="eip191",
        **({"labels": [f"incident:{incident_id}"]} if incident_id else {}),
    )
    bundle = stix2.Bundle(objects=[*objs, dict(json.loads(sig.serialize()))], allow_custom=True)
    return dict(json.loads(bundle.serialize()))


@dataclass(frozen=True, slots=True)
class Rejection:
    source: str
    object_id: str
    reason: str


@dataclass(frozen=True, slots=True)
class Verified:
    """Indicators whose signature checked out, with their publisher; and everything refused."""

    indicators: tuple[tuple[Address, Indicator], ...]
    rejections: tuple[Rejection, ...]
    bundles: tuple[str, ...]  # bundle hashes accepted


def _parse_time(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def _indicator_from(obj: Mapping[str, Any]) -> Indicator:
    kind = IndicatorKind(str(obj["x_evm_kind"]))
    value = str(obj["x_evm_value"])
    if obj.get("pattern") != pattern_for(kind, value):
        raise IntelError(f"pattern {obj.get('pattern')!r} does not state {kind.value} {value}")
    vc = obj.get("x_evm_vuln_class")
    chain = obj.get("x_evm_chain_id")
    return Indicator(
        kind=kind,
        value=value,
        valid_from=_parse_time(str(obj["valid_from"])),
        valid_until=_parse_time(str(obj["valid_until"])),
        vuln_class=VulnClass(vc) if vc else None,
        description=str(obj.get("description") or ""),
        chain_id=int(chain) if chain is not None else None,
    )


def verify_objects(
    objects: Sequence[Mapping[str, Any]],
    trusted: Iterable[str],
    *,
    source: str = "",
    now: datetime | None = None,
) -> Verified:
    """The indicators among ``objects`` that a trusted publisher signed and that have not expired."""
    now = now or datetime.now(UTC)
    trusted_set = {t.lower() for t in trusted}
    by_id: dict[str, list[Mapping[str, Any]]] = {}
    for o in objects:
        by_id.setdefault(str(o.get("id")), []).append(o)
    covered: set[str] = set()
    accepted: list[tuple[Address, Indicator]] = []
    rejections: list[Rejection] = []
    bundles: list[str] = []
    trusted_versions: dict[str, set[str]] = {}  # object id -> hashes an accepted signature covers
    sigs = [o for o in objects if o.get("type") == SIGNATURE_TYPE]
    for sig in sigs:
        sid = str(sig.get("id"))
        refs = [str(r) for r in sig.get("object_refs") or []]
        covered.update(refs)
        try:
            signed: list[Mapping[str, Any]] = []
            hashes = [str(h) for h in sig.get("x_evm_object_hashes") or []]
            if len(hashes) != len(refs):
                raise IntelError("the signature lists a hash for every signed object; this one does not")
            for ref, want in zip(refs, hashes, strict=True):
                # another version of the same id (a copy, a replay) does not shadow the signed one
                match = next((v for v in by_id.get(ref, []) if bundle_hash([v]) == want), None)
                if match is None:
                    raise IntelError(f"signed object {ref} is missing or altered")
                signed.append(match)
            digest = bundle_hash(signed)
            if digest != sig.get("x_evm_bundle_hash"):
                raise IntelError(
                    f"bundle hash {digest} differs from the signed {sig.get('x_evm_bundle_hash')}"
                )
            signature = bytes.fromhex(str(sig.get("x_evm_signature", "")).removeprefix("0x"))
            recovered = Account.recover_message(
                encode_defunct(primitive=bytes.fromhex(digest[2:])), signature=signature
            )
            if recovered.lower() != str(sig.get("x_evm_publisher", "")).lower():
                raise IntelError(
                    f"signed by {recovered}, not by the claimed publisher {sig.get('x_evm_publisher')}"
                )
            if recovered.lower() not in trusted_set:
                raise IntelError(f"unknown publisher {recovered}")
        except (IntelError, ValueError, TypeError, KeyError) as exc:
            reason = exc.user_message if isinstance(exc, IntelError) else f"bad signature: {exc}"
            rejections.append(Rejection(source, sid, reason))
            continue
        bundles.append(digest)
        for ref, want in zip(refs, hashes, strict=True):
            trusted_versions.setdefault(ref, set()).add(want)
        publisher = Address(to_checksum_address(recovered))
        for obj in signed:
            if obj.get("type") != "indicator":
                continue
            try:
                ind = _indicator_from(obj)
            except (IntelError, ValueError, KeyError) as exc:
                reason = exc.user_message if isinstance(exc, IntelError) else f"malformed indicator: {exc}"
                rejections.append(Rejection(source, str(obj["id"]), reason))
                continue
            if ind.expired(now):
                rejections.append(Rejection(source, str(obj["id"]), f"expired at {_stamp(ind.valid_until)}"))
                continue
            accepted.append((publisher, ind))
    for o in objects:
        oid = str(o.get("id"))
        if o.get("type") != "indicator":
            continue
        if oid not in covered:
            rejections.append(Rejection(source, oid, "unsigned"))
        elif oid in trusted_versions and bundle_hash([o]) not in trusted_versions[oid]:
            # a copy of a signed object with other content (tampered, or a forged "update")
            rejections.append(
                Rejection(source, oid, "altered: differs from the version its signature covers")
            )
    return Verified(tuple(accepted), tuple(rejections), tuple(bundles))
