"""An estimated gas limit gets a wallet's margin (a time-dependent path may need more a second
later), never pushed above a block's usual limit by it."""

from bulwark.chain.client import _with_margin


def test_the_estimate_gets_a_fifth_more() -> None:
    assert _with_margin(100_000) == 120_000
    assert _with_margin(21_000) == 25_200


def test_the_margin_never_lifts_a_limit_past_the_block_cap() -> None:
    assert _with_margin(29_000_000) == 30_000_000
    assert _with_margin(31_000_000) == 31_000_000  # the node's own estimate is kept as it is
