"""Signed STIX bundles: what verifies, and every way a bundle is refused."""

from __future__ import annotations

import asyncio
import copy
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bulwark.chain import Signer
from bulwark.domain import VulnClass
from bulwark.intel.bundle import build_bundle, verify_objects
from bulwark.intel.feeds import FileFeed
from bulwark.intel.indicators import AttackEvidence, IndicatorKind, VulnerableCode, derive_indicators
from bulwark.intel.subscribe import pull
from bulwark.store import Store

PUB = Signer("0x" + "01" * 32)
OTHER = Signer("0x" + "02" * 32)
NOW = datetime(2026, 1, 1, tzinfo=UTC)


def _evidence() -> AttackEvidence:
    return AttackEvidence(
        31337,
        ("0x" + "11" * 20,),
        {"0x" + "22" * 20: bytes.fromhex("6080604052348015600f57600080fd5b50")},
        ("0x12345678", "0xabcdef01"),
        VulnClass.ACCESS_CONTROL,
        (VulnerableCode(VulnClass.ACCESS_CONTROL, "0x" + "33" * 32),),
    )


def _bundle(signer: Signer = PUB, ttl: timedelta = timedelta(days=30)) -> dict:
    return build_bundle(derive_indicators(_evidence(), ttl=ttl, now=NOW), signer, incident_id="inc-1")


def test_a_signed_bundle_verifies_and_states_every_indicator_kind() -> None:
    b = _bundle()
    assert b["type"] == "bundle" and b["objects"][0]["type"] == "identity"
    got = verify_objects(b["objects"], [PUB.address], now=NOW + timedelta(days=1))
    assert not got.rejections
    kinds = {i.kind for _, i in got.indicators}
    assert kinds == set(IndicatorKind)
    assert {p for p, _ in got.indicators} == {PUB.address}
    ind = next(o for o in b["objects"] if o.get("x_evm_kind") == "account")
    assert ind["pattern"] == f"[x-evm-account:address = '{ind['x_evm_value']}']"
    assert ind["spec_version"] == "2.1"


@pytest.mark.parametrize("field", ["x_evm_value", "valid_until", "pattern", "x_evm_vuln_class"])
def test_a_tampered_bundle_is_rejected_whole(field: str) -> None:
    b = _bundle()
    ind = next(o for o in b["objects"] if o.get("x_evm_kind") == "code-fingerprint")
    ind[field] = {
        "x_evm_value": "0x" + "44" * 32,
        "valid_until": "2099-01-01T00:00:00.000Z",
        "pattern": "[x-evm-contract:code_fingerprint = '0x00']",
        "x_evm_vuln_class": "custom",
    }[field]
    got = verify_objects(b["objects"], [PUB.address], now=NOW)
    assert got.indicators == ()
    assert len(got.rejections) == 1 and "missing or altered" in got.rejections[0].reason


def test_a_signed_hash_list_pointing_at_another_version_still_fails_the_bundle_hash() -> None:
    b = _bundle()
    ind = next(o for o in b["objects"] if o.get("x_evm_kind") == "account")
    evil = dict(ind, x_evm_value="0x" + "55" * 20, pattern=f"[x-evm-account:address = '0x{'55' * 20}']")
    sig = b["objects"][-1]
    from bulwark.intel.bundle import bundle_hash

    sig["x_evm_object_hashes"] = [
        bundle_hash([evil]) if h == bundle_hash([ind]) else h for h in sig["x_evm_object_hashes"]
    ]
    got = verify_objects([*b["objects"], evil], [PUB.address], now=NOW)
    assert got.indicators == () and "differs from the signed" in got.rejections[0].reason


def test_a_dropped_object_or_a_forged_signature_is_rejected() -> None:
    b = _bundle()
    missing = [o for o in b["objects"] if o.get("x_evm_kind") != "account"]
    assert "missing" in verify_objects(missing, [PUB.address], now=NOW).rejections[0].reason
    forged = copy.deepcopy(b)
    sig = forged["objects"][-1]
    sig["x_evm_signature"] = sig["x_evm_signature"][:-4] + (
        "1b00" if not sig["x_evm_signature"].endswith("1b00") else "1c00"
    )
    got = verify_objects(forged["objects"], [PUB.address], now=NOW)
    assert got.indicators == () and got.rejections


def test_an_unknown_publisher_is_rejected_even_if_it_claims_a_trusted_one() -> None:
    b = _bundle(OTHER)
    got = verify_objects(b["objects"], [PUB.address], now=NOW)
    assert got.indicators == () and "unknown publisher" in got.rejections[0].reason
    b["objects"][-1]["x_evm_publisher"] = PUB.address  # lying about who signed
    got = verify_objects(b["objects"], [PUB.address], now=NOW)
    assert got.indicators == () and "not by the claimed publisher" in got.rejections[0].reason


def test_an_expired_indicator_is_rejected_alone_and_unsigned_ones_never_apply() -> None:
    b = _bundle(ttl=timedelta(hours=1))
    got = verify_objects(b["objects"], [PUB.address], now=NOW + timedelta(hours=2))
    assert got.indicators == ()
    assert all("expired" in r.reason for r in got.rejections) and len(got.rejections) == 6
    unsigned = [o for o in b["objects"] if o["type"] != "x-bulwark-signature"]
    got = verify_objects(unsigned, [PUB.address], now=NOW)
    assert got.indicators == () and {r.reason for r in got.rejections} == {"unsigned"}


def test_pull_from_files_keeps_the_good_and_audits_every_rejection(tmp_path: Path) -> None:
    feed = FileFeed(tmp_path / "feed")
    feed.publish(_bundle())
    feed.publish(_bundle(OTHER))
    store = Store(f"sqlite:///{tmp_path / 's.db'}")
    store.migrate()
    intel = asyncio.run(pull([feed], [PUB.address], store=store, now=NOW))
    assert {a.lower() for a in intel.addresses} == {"0x" + "11" * 20, "0x" + "22" * 20}
    assert len(intel.code_fingerprints) == 1 and intel.call_patterns == (("0x12345678", "0xabcdef01"),)
    kinds = [e.kind for e in store.audit_entries()]
    assert kinds.count("intel.accepted") == 1 and kinds.count("intel.rejected") == 1
    store.close()


def test_a_tampered_copy_next_to_the_genuine_bundle_is_rejected_and_never_applied() -> None:
    b = _bundle()
    forged = copy.deepcopy(b)
    ind = next(o for o in forged["objects"] if o.get("x_evm_kind") == "account")
    ind["x_evm_value"] = "0x" + "66" * 20
    ind["pattern"] = f"[x-evm-account:address = '{ind['x_evm_value']}']"
    got = verify_objects([*b["objects"], *forged["objects"]], [PUB.address], now=NOW)
    assert "0x" + "66" * 20 not in {i.value for _, i in got.indicators}
    assert [r.object_id for r in got.rejections] == [ind["id"]]
    assert "altered" in got.rejections[0].reason
