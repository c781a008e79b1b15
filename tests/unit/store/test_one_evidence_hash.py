"""One evidence hash: the store, the code verdict, the parameter-remedy verdict and the exported
bundle all bind a document by domain.evidence.hash_document, so they agree on every document."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bulwark.domain.evidence import hash_document
from bulwark.domain.remedy import ParamCall, ParameterRemedy
from bulwark.domain.verify import RegressionReport
from bulwark.remedy.verify import remedy_verdict
from bulwark.store import Store
from bulwark.verify.bundle import field_digests
from bulwark.verify.evidence import make_evidence, verify_evidence

# JSON values as documents hold them (non-ASCII text included: hashed as UTF-8, not escaped)
_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3),
    max_leaves=12,
)


@pytest.fixture
def store(tmp_path: Path) -> Any:
    s = Store(f"sqlite:///{tmp_path / 'bulwark.db'}")
    yield s
    s.close()


def test_a_known_document_has_a_known_hash() -> None:
    # sha256 of the canonical JSON {"a":[1,"é"],"pass":true}: sorted keys, no spaces, UTF-8
    expected = "0x" + hashlib.sha256('{"a":[1,"é"],"pass":true}'.encode()).hexdigest()
    assert hash_document({"pass": True, "a": [1, "é"]}) == expected


@settings(max_examples=60, derandomize=True, deadline=None)
@given(doc=st.dictionaries(st.text(max_size=6), _json, max_size=4))
def test_the_code_verdict_and_the_bundle_bind_by_the_one_hash(doc: dict[str, Any]) -> None:
    evidence = make_evidence(doc)
    assert evidence.hash == hash_document(evidence.document) and verify_evidence(evidence)
    assert field_digests(evidence.document) == {k: hash_document(v) for k, v in evidence.document.items()}


def test_the_store_and_a_parameter_remedy_verdict_agree(store: Store) -> None:
    call = ParamCall("lending", "0x" + "11" * 20, "setLtv(uint256)", (0,), "0xabcdef01")
    verdict = remedy_verdict(
        ParameterRemedy((call,), "zero the LTV — é", "zero:ltv"),
        chain_id=31337,
        admin="0x" + "22" * 20,  # type: ignore[arg-type]
        attack=None,
        attack_txs=("0xAA",),
        regression=RegressionReport(1, 0, ()),
        invariants=(),
        impact=None,
        applied=True,
    )
    document = dict(verdict.evidence.document)
    assert verdict.evidence_hash == hash_document(document)
    assert store.put_evidence(document) == verdict.evidence_hash
    recorded = store.verdict(verdict.evidence_hash)
    assert recorded is not None and recorded.evidence_hash == verdict.evidence_hash
    assert store.put_artifact("x", "note", document) == verdict.evidence_hash
