"""Leases: one holder per named job, taken over only once the holder stops renewing."""

import time

import pytest

from bulwark.errors import LeaseHeld
from bulwark.store import Store


def test_a_second_holder_is_refused_while_the_lease_is_live(store: Store) -> None:
    store.acquire_lease("watch", "host:1:a", ttl_s=30)
    with pytest.raises(LeaseHeld, match="held by host:1:a"):
        store.acquire_lease("watch", "host:2:b", ttl_s=30)
    holder = store.lease_holder("watch")
    assert holder is not None and holder[0] == "host:1:a"


def test_the_holder_renews_and_releases(store: Store) -> None:
    store.acquire_lease("watch", "host:1:a", ttl_s=30)
    store.acquire_lease("watch", "host:1:a", ttl_s=60)  # renewal, not a conflict
    store.release_lease("watch", "host:2:b")  # not the holder: no effect
    assert store.lease_holder("watch") is not None
    store.release_lease("watch", "host:1:a")
    assert store.lease_holder("watch") is None
    store.acquire_lease("watch", "host:2:b", ttl_s=30)
    assert store.lease_holder("watch") is not None


def test_an_expired_lease_is_taken_over(store: Store) -> None:
    store.acquire_lease("watch", "host:1:a", ttl_s=0.05)
    time.sleep(0.1)
    assert store.lease_holder("watch") is None
    store.acquire_lease("watch", "host:2:b", ttl_s=30)
    holder = store.lease_holder("watch")
    assert holder is not None and holder[0] == "host:2:b"
