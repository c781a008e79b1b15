"""The one Finding codec (bulwark.domain.finding): exact round trips, the older key read, and a
malformed record refused with the key named."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bulwark.detect.report import finding_json
from bulwark.domain import Action, Address, Confidence, Finding, Selector, Severity, TxHash, VulnClass
from bulwark.domain.finding import FINDING_KEYS, FindingFormatError, finding_from_json, finding_to_json

_hex = "0123456789abcdefABCDEF"
addresses = st.builds(lambda h: Address("0x" + h), st.text(_hex, min_size=40, max_size=40))
selectors = st.builds(lambda h: Selector("0x" + h), st.text(_hex, min_size=8, max_size=8))
tx_hashes = st.builds(lambda h: TxHash("0x" + h), st.text(_hex, min_size=64, max_size=64))
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=12,
)
findings = st.builds(
    Finding,
    detector=st.text(),
    vuln_class=st.sampled_from(VulnClass),
    severity=st.sampled_from(Severity),
    confidence=st.sampled_from(Confidence),
    title=st.text(),
    protocol=st.text(),
    contract=st.none() | addresses,
    tx_hash=st.none() | tx_hashes,
    pending=st.booleans(),
    block_number=st.none() | st.integers(min_value=0, max_value=2**63),
    function=st.none() | selectors,
    action=st.sampled_from(Action),
    selectors=st.lists(selectors, max_size=3).map(tuple),
    evidence=st.dictionaries(st.text(), json_values, max_size=5),
)


@settings(max_examples=300, derandomize=True, deadline=None)
@given(findings)
def test_a_finding_round_trips_exactly_through_json_text(f: Finding) -> None:
    data = finding_to_json(f)
    assert tuple(data) == FINDING_KEYS
    wire = json.loads(json.dumps(data))
    assert finding_from_json(wire) == f
    assert finding_to_json(finding_from_json(wire)) == wire


def _sample(**evidence: Any) -> Finding:
    return Finding(
        detector="reentrancy",
        vuln_class=VulnClass.REENTRANCY,
        severity=Severity.CRITICAL,
        confidence=Confidence.HIGH,
        title="re-entered withdraw",
        protocol="vault",
        contract=Address("0x" + "11" * 20),
        tx_hash=TxHash("0x" + "22" * 32),
        pending=True,
        block_number=7,
        function=Selector("0x2e1a7d4d"),
        action=Action.PAUSE,
        selectors=(Selector("0x2e1a7d4d"),),
        evidence=dict(evidence),
    )


def test_detect_report_speaks_the_one_codec() -> None:
    f = _sample(depth=2)
    assert finding_json(f) == finding_to_json(f)
    assert finding_json(f)["class"] == "reentrancy" and "vuln_class" not in finding_json(f)


def test_the_field_name_form_written_before_one_codec_is_read() -> None:
    """``--json`` lines, scenario reports and bus messages named the class ``vuln_class``."""
    f = _sample(calls=[1, 2])
    old = {k: v for k, v in finding_to_json(f).items() if k != "class"} | {"vuln_class": "reentrancy"}
    assert finding_from_json(old) == f
    # what the store adds beside the finding is not part of it
    assert finding_from_json(finding_to_json(f) | {"id": 3, "withdrawn": False}) == f


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("class", "not-a-class"),
        ("class", None),
        ("severity", "dire"),
        ("confidence", 3),
        ("action", "explode"),
        ("block_number", "7"),
        ("selectors", "0x2e1a7d4d"),
        ("evidence", ["a"]),
        ("contract", 17),
        ("title", None),
    ],
)
def test_a_malformed_record_is_refused_naming_the_key(key: str, value: Any) -> None:
    bad = finding_to_json(_sample()) | {key: value}
    with pytest.raises(FindingFormatError, match=f"finding record: '{key}'") as info:
        finding_from_json(bad)
    assert "\n" not in info.value.user_message
