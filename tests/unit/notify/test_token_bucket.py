"""The token bucket behind per-channel rate limits, on a fake clock."""

from __future__ import annotations

import pytest

from bulwark.notify import TokenBucket


def test_token_bucket_refills_at_its_rate() -> None:
    now = [100.0]
    bucket = TokenBucket(rate=2.0, burst=2, clock=lambda: now[0])
    assert [bucket.reserve(0.0), bucket.reserve(0.0)] == [0.0, 0.0]
    assert bucket.reserve(0.0) is None  # empty, and not allowed to wait
    assert bucket.reserve(1.0) == pytest.approx(0.5)  # queued: the next token in 0.5 s
    assert bucket.reserve(1.0) == pytest.approx(1.0)  # behind it in the queue
    assert bucket.reserve(1.0) is None  # would wait 1.5 s
    now[0] += 10  # refills, but never beyond the burst
    assert [bucket.reserve(0.0), bucket.reserve(0.0), bucket.reserve(0.0)] == [0.0, 0.0, None]
