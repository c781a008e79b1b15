"""Detection's durable state: checkpoints in the store survive a restart with their recent hashes;
recorded findings of an orphaned block are withdrawn; a store failure never swallows the alert."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import structlog

from bulwark.chain import run
from bulwark.chain.watchers import Checkpoint
from bulwark.detect.persist import UNJUDGED, WATCH_LEASE, StoreCheckpoints, holding_lease, recording
from bulwark.detect.service import Output, Raised, Rewound, Unjudged, Withdrawn
from bulwark.domain import Confidence, Finding, Hash32, Severity, TxHash, VulnClass
from bulwark.errors import LeaseHeld, StoreError
from bulwark.store import Store

H1, H2 = Hash32("0x" + "11" * 32), Hash32("0x" + "22" * 32)


@pytest.fixture(autouse=True)
def _plain_logging() -> None:
    # An earlier CLI test may have left structlog writing to a stream pytest has since closed.
    structlog.reset_defaults()


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    s = Store(f"sqlite:///{tmp_path / 'b.db'}")
    yield s
    s.close()


def _finding(tx: str, block: int | None) -> Finding:
    return Finding(
        detector="rule:x",
        vuln_class=VulnClass.ACCESS_CONTROL,
        severity=Severity.HIGH,
        confidence=Confidence.HIGH,
        title="t",
        protocol="p",
        contract=None,
        tx_hash=TxHash(tx),
        pending=block is None,
        block_number=block,
    )


def test_checkpoint_round_trip_keeps_recent_hashes(store: Store, tmp_path: Path) -> None:
    cps = StoreCheckpoints(store)
    assert cps.load("net-heads") is None
    cps.save("net-heads", Checkpoint(7, H2, ((6, H1), (7, H2))))
    cps.save("net-heads", Checkpoint(8, H1, ((7, H2), (8, H1))))  # an update, not a second row
    # A fresh Store on the same database: what a restarted watcher sees.
    again = Store(store.url)
    try:
        assert StoreCheckpoints(again).load("net-heads") == Checkpoint(8, H1, ((7, H2), (8, H1)))
    finally:
        again.close()


def test_recording_stores_findings_and_withdraws_an_orphaned_block(store: Store) -> None:
    seen: list[Output] = []
    sink = recording(store, seen.append)
    mined_a, mined_b, pending = _finding("0xa", 5), _finding("0xb", 6), _finding("0xc", None)

    async def go() -> None:
        await sink(Raised(mined_a, block_hash=H1))
        await sink(Raised(mined_b, block_hash=H2))
        await sink(Raised(pending, latency_ms=3.0))
        await sink(Withdrawn(mined_a, "orphaned", H1))

    run(go())
    assert [type(x).__name__ for x in seen] == ["Raised", "Raised", "Raised", "Withdrawn"]
    assert sorted(f["tx_hash"] for f in store.findings()) == ["0xb", "0xc"]
    all_ = {f["tx_hash"]: f["withdrawn"] for f in store.findings(include_withdrawn=True)}
    assert all_ == {"0xa": True, "0xb": False, "0xc": False}


def test_a_store_failure_still_delivers_the_finding(store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*_: object, **__: object) -> int:
        raise StoreError("database is locked")

    monkeypatch.setattr(store, "record_finding", broken)
    seen: list[Output] = []
    run(recording(store, seen.append)(Raised(_finding("0xd", None))))
    assert len(seen) == 1


def test_unjudged_transactions_and_chain_rewinds_get_audit_entries_of_their_own(store: Store) -> None:
    seen: list[Output] = []
    sink = recording(store, seen.append)
    tx = TxHash("0x" + "ab" * 32)
    items: list[Output] = [
        Unjudged(tx, 7, H1, "debug_traceTransaction failed: Resource not found", "local"),
        Rewound("reset", 9, -1, 2, "local"),
    ]

    async def feed() -> None:
        for item in items:
            await sink(item)

    run(feed())
    assert seen == items  # the printer still sees both
    entries = [(e.kind, e.payload) for e in store.audit_entries()]
    assert entries == [
        (UNJUDGED, {"network": "local", "tx_hash": tx, "block": 7, "block_hash": H1,
                    "reason": "debug_traceTransaction failed: Resource not found"}),
        ("chain.reset", {"network": "local", "last_processed": 9, "resume_after": -1, "head": 2}),
    ]  # fmt: skip


def test_the_watch_lease_refuses_a_second_holder_while_renewed_and_is_released(store: Store) -> None:
    async def go() -> None:
        async with holding_lease(store, ttl_s=0.3, renew_s=0.05) as lost:
            first = store.lease_holder(WATCH_LEASE)
            assert first is not None
            # Renewed: still refused well past the first ttl.
            deadline = first[1].timestamp() + 0.3
            while time.time() < deadline:
                with pytest.raises(LeaseHeld, match="held by"):
                    store.acquire_lease(WATCH_LEASE, "other:1:x", ttl_s=30)
                await asyncio.sleep(0.05)
            assert not lost.done()
        assert store.lease_holder(WATCH_LEASE) is None  # released on the way out
        store.acquire_lease(WATCH_LEASE, "other:1:x", ttl_s=30)
        with pytest.raises(LeaseHeld):
            async with holding_lease(store):
                pass  # pragma: no cover

    asyncio.run(go())


def test_a_lease_lost_to_another_process_is_signalled(store: Store) -> None:
    async def go() -> None:
        async with holding_lease(store, ttl_s=0.05, renew_s=0.2) as lost:
            await asyncio.sleep(0.1)  # "stalled" past the ttl: another process takes over
            store.acquire_lease(WATCH_LEASE, "other:1:x", ttl_s=30)
            with pytest.raises(LeaseHeld):
                await asyncio.wait_for(lost, 5)
        assert store.lease_holder(WATCH_LEASE) is not None  # the other holder's lease is untouched

    asyncio.run(go())


def test_the_lease_of_a_killed_process_on_this_host_is_taken_over_at_once(store: Store) -> None:
    """A watch killed with SIGKILL never releases its lease: a restart on the same host sees its
    process is gone and takes over without waiting out the ttl; a live holder is still refused."""
    import socket
    import subprocess
    import sys

    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    store.acquire_lease(WATCH_LEASE, f"{socket.gethostname()}:{gone.pid}:dead", ttl_s=3600)

    async def go() -> None:
        async with holding_lease(store):
            holder = store.lease_holder(WATCH_LEASE)
            assert holder is not None and not holder[0].endswith(":dead")

    run(go())
    alive = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        store.acquire_lease(WATCH_LEASE, f"{socket.gethostname()}:{alive.pid}:live", ttl_s=3600)
        with pytest.raises(LeaseHeld):
            run(_enter(store))
    finally:
        alive.kill()
        alive.wait()


async def _enter(store: Store) -> None:
    async with holding_lease(store):
        pass  # pragma: no cover
