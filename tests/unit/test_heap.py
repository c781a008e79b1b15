"""The screening process's collector settings: startup's objects frozen, young collections rarer."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest

from bulwark.heap import settle_after_startup


@pytest.fixture
def restored_gc() -> Iterator[tuple[int, int, int]]:
    threshold = gc.get_threshold()
    yield threshold
    gc.unfreeze()
    gc.set_threshold(*threshold)


def test_startup_objects_leave_the_collectors_walks(restored_gc: tuple[int, int, int]) -> None:
    gc.unfreeze()
    gc.set_threshold(700, 10, 10)  # Python's defaults (another test in this process may have settled)
    loaded = [[i] for i in range(1000)]  # stands for what startup loaded (tracked containers)
    settle_after_startup()
    assert gc.get_freeze_count() >= len(loaded)
    young, middle, old = gc.get_threshold()
    assert young > 700  # rarer young collections than before
    assert (middle, old) == (10, 10)  # only the young generation's threshold changes
