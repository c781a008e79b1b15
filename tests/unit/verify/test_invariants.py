"""Invariant plumbing that needs no chain: signature parsing and amount rescaling."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from bulwark.verify.invariants import _rescale, _split


def test_split_signatures() -> None:
    assert _split("totalAssets()(uint256)") == ("totalAssets", [], ["uint256"])
    assert _split("balanceOf(address)(uint256)") == ("balanceOf", ["address"], ["uint256"])
    assert _split("getReserves()(uint256,uint256)") == ("getReserves", [], ["uint256", "uint256"])
    assert _split("price(address)") == ("price", ["address"], ["uint256"])


@given(st.integers(1, 2**128 - 1), st.sampled_from([0, 1, 2, 8, 40, 400]))
def test_rescale_amount_words_only(amount: int, factor: int) -> None:
    selector = b"\x12\x34\x56\x78"
    address_word = (0xAB << 150).to_bytes(32, "big")  # >= 2**128: not an amount, never touched
    data = selector + amount.to_bytes(32, "big") + address_word
    out = _rescale(data, 0, factor)
    assert int.from_bytes(out[4:36], "big") == amount * factor // 4
    assert out[:4] == selector and out[36:] == address_word
    assert _rescale(data, 1, factor) == data
    assert _rescale(data, 5, factor) == data  # past the end: unchanged
