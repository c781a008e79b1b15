"""One canonical JSON for every hash: the bytes of each variant are the ones hashed before the
copies were merged (the audit log, evidence, intel signatures and fingerprints depend on them)."""

from __future__ import annotations

import dataclasses
import enum
import hashlib
import json
from typing import Any

import pytest
from eth_utils.crypto import keccak
from hypothesis import given, settings
from hypothesis import strategies as st

from bulwark.domain.canonical import canonical_ascii, canonical_json, to_jsonable
from bulwark.intel.bundle import bundle_hash
from bulwark.intel.fingerprint import ast_fingerprint, ast_shape
from bulwark.store import canonical_json as store_canonical_json

DOC = {"b": [1, 2.5, None, True], "a": "café ✓", "n": {"z": 0, "y": "\u2603"}}

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=6),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=4), inner, max_size=4),
    max_leaves=12,
)


def test_the_hashed_bytes_are_pinned() -> None:
    # Values computed with the pre-merge json.dumps calls; a change here breaks every stored hash.
    assert hashlib.sha256(canonical_json(DOC).encode()).hexdigest() == (
        "75f035fa86b969d86e0a4293c580cd7fb947a85b8de86ae677d15c1018212f9b"
    )
    assert keccak(canonical_ascii(DOC)).hex() == (
        "018cc978094deaedfb41b70a18b8be717bcf704a13875ff681a0b1f774e820f1"
    )


@settings(max_examples=200, deadline=None, derandomize=True)
@given(json_values)
def test_each_variant_matches_the_expression_it_replaced(value: Any) -> None:
    audit = json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
    signed = json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    assert canonical_json(value) == audit
    assert canonical_ascii(value) == signed.encode()


def test_store_exports_the_same_function() -> None:
    assert store_canonical_json is canonical_json


def test_strict_refuses_what_json_cannot_encode_and_the_default_stringifies_it() -> None:
    with pytest.raises(TypeError):
        canonical_ascii({"x": object()})
    assert canonical_json({"x": 1.5j}) == '{"x":"1.5j"}'


def test_intel_hashes_use_the_ascii_variant() -> None:
    objs = [{"id": "b", "name": "ü"}, {"id": "a"}]
    ordered = sorted(objs, key=lambda o: o["id"])
    expected = keccak(json.dumps(ordered, sort_keys=True, separators=(",", ":"), ensure_ascii=True).encode())
    assert bundle_hash(objs) == "0x" + expected.hex()
    node = {"nodeType": "Identifier", "name": "é"}
    shape = json.dumps(ast_shape(node), sort_keys=True, separators=(",", ":"))
    assert ast_fingerprint(node) == "0x" + keccak(shape.encode()).hex()


class Colour(enum.Enum):
    RED = "red"


@dataclasses.dataclass(frozen=True)
class Row:
    colour: Colour
    tags: frozenset[str]
    raw: bytes
    gas: float


def test_to_jsonable_sorts_sets_and_flattens_dataclasses() -> None:
    row = Row(Colour.RED, frozenset({"z", "a"}), b"\x01\xff", 3.0)
    assert to_jsonable({1: (row,)}) == {
        "1": [{"colour": "red", "tags": ["a", "z"], "raw": "0x01ff", "gas": 3}]
    }
