"""Byte-offset splicing: order independence, overlap detection, UTF-8 multi-byte content."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bulwark.domain.patch import Edit
from bulwark.patch.edit import EditConflict, apply_edits, check_disjoint, overlapping, unified_diff

TEXT = st.text(alphabet=st.sampled_from([*list("ab ;{}\n"), "é", "€", "𝄞", "ü"]), min_size=0, max_size=60)


def _boundaries(text: str) -> list[int]:
    """Byte offsets that fall between characters."""
    out, pos = [0], 0
    for ch in text:
        pos += len(ch.encode())
        out.append(pos)
    return out


@st.composite
def disjoint_edits(draw: st.DrawFn) -> tuple[str, list[Edit]]:
    text = draw(TEXT)
    cuts = sorted(draw(st.lists(st.sampled_from(_boundaries(text)), max_size=8)))
    edits = []
    for a, b in zip(cuts[::2], cuts[1::2], strict=False):
        edits.append(Edit("f.sol", a, b, draw(TEXT)))
    return text, edits


@settings(max_examples=200, deadline=None)
@given(disjoint_edits(), st.randoms())
def test_any_order_gives_the_same_result(case: tuple[str, list[Edit]], rnd: object) -> None:
    text, edits = case
    shuffled = list(edits)
    rnd.shuffle(shuffled)  # type: ignore[attr-defined]
    assert apply_edits(text, edits) == apply_edits(text, shuffled)


@settings(max_examples=200, deadline=None)
@given(disjoint_edits())
def test_result_matches_a_reference_splice(case: tuple[str, list[Edit]]) -> None:
    text, edits = case
    data = text.encode()
    expected = data
    # reference: apply from the end so earlier offsets stay valid (insertions at one point: by text)
    for e in sorted(set(edits), key=lambda e: (e.start, e.end, e.replacement), reverse=True):
        expected = expected[: e.start] + e.replacement.encode() + expected[e.end :]
    assert apply_edits(text, edits) == expected.decode()


@settings(max_examples=200, deadline=None)
@given(TEXT, st.data())
def test_overlapping_ranges_are_rejected(text: str, data: st.DataObject) -> None:
    bounds = _boundaries(text)
    if len(bounds) < 3:
        return
    a, b, c = sorted(data.draw(st.lists(st.sampled_from(bounds), min_size=3, max_size=3, unique=True)))
    first, second = Edit("f.sol", a, c, "x"), Edit("f.sol", b, c, "y")
    assert overlapping(first, second)
    with pytest.raises(EditConflict):
        apply_edits(text, [first, second])


def test_insertions_at_a_range_boundary_are_not_overlaps() -> None:
    check_disjoint([Edit("f.sol", 2, 5, "x"), Edit("f.sol", 5, 5, "y"), Edit("f.sol", 2, 2, "z")])
    assert apply_edits("0123456", [Edit("f.sol", 2, 5, "x"), Edit("f.sol", 5, 5, "y")]) == "01xy56"


def test_offsets_are_bytes_not_characters() -> None:
    text = "// é\nuint x;"
    start = text.encode().index(b"x")
    assert apply_edits(text, [Edit("f.sol", start, start + 1, "y")]) == "// é\nuint y;"


def test_splitting_a_multibyte_character_is_an_error() -> None:
    with pytest.raises(EditConflict):
        apply_edits("é", [Edit("f.sol", 1, 1, "x")])


def test_unified_diff_names_both_sides() -> None:
    diff = unified_diff({"a.sol": "x\n"}, {"a.sol": "y\n"})
    assert diff.splitlines()[:2] == ["--- a/a.sol", "+++ b/a.sol"]
    assert "-x" in diff and "+y" in diff
