"""Screen workers on a real nats-server (JetStream): a worker killed mid-stream, a worker killed
between publishing a finding and acknowledging its transaction, and a broker restart.

Workers are separate processes (tests.support.nats_worker: the real ScreenWorker with a stand-in
judge) killed with SIGKILL. Every wait is on a condition with a generous deadline, never a sleep.
"""

from __future__ import annotations

import asyncio
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from tests.support.nats_server import NatsServer, nats_server
from tests.support.nats_worker import NETWORK, StubScreener, make_tx

from bulwark.app.roles import ScreenWorker
from bulwark.chain.bus import Bus, TxEnvelope

pytestmark = pytest.mark.e2e
ROOT = Path(__file__).resolve().parents[3]
ACK_WAIT_S = 2.0


@pytest.fixture
def server() -> Iterator[NatsServer]:
    with nats_server() as s:
        yield s


def _wait(cond: Callable[[], bool], what: str, timeout_s: float = 30.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not cond():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


def _start_worker(url: str, log: Path, *extra: str) -> subprocess.Popen[bytes]:
    with log.with_suffix(".err").open("ab") as err:  # a file, not a pipe nobody drains
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "tests.support.nats_worker",
                url,
                str(log),
                *("--ack-wait", str(ACK_WAIT_S)),
                *extra,
            ],
            cwd=ROOT,
            stderr=err,
        )
    _wait(lambda: log.exists() and "ready" in log.read_text(), "the worker to connect")
    return proc


def _stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)


def _lines(log: Path, kind: str) -> list[list[str]]:
    if not log.exists():
        return []
    return [line.split()[1:] for line in log.read_text().splitlines() if line.startswith(kind + " ")]


async def _publish(url: str, txs: list[int], attacks: set[int]) -> None:
    async with Bus(url, ack_wait_s=ACK_WAIT_S) as bus:
        for i in txs:
            await bus.publish_tx(TxEnvelope(NETWORK, make_tx(i, attack=i in attacks), time.time()))


async def _findings(url: str) -> Counter[str]:
    async with Bus(url, ack_wait_s=ACK_WAIT_S) as bus:
        return Counter(f["finding"]["tx_hash"] for f in await bus.findings(NETWORK))


def test_killed_worker_transactions_are_redelivered_and_screened(server: NatsServer, tmp_path: Path) -> None:
    n = 120
    attacks = set(range(0, n, 10))
    asyncio.run(_publish(server.url, list(range(n)), attacks))
    all_hashes = {make_tx(i).hash for i in range(n)}

    slow_log, fast_log = tmp_path / "slow.log", tmp_path / "fast.log"
    # Slow: 8 in flight at 0.4 s each, so it holds unacknowledged transactions when killed.
    slow = _start_worker(server.url, slow_log, "--delay", "0.4", "--concurrency", "8")
    try:
        _wait(lambda: len(_lines(slow_log, "judged")) >= 16, "the slow worker to screen some")
        slow.kill()  # SIGKILL: no cleanup, no acknowledgement of what it holds
        slow.wait(timeout=10)
    finally:
        _stop(slow)
    held = {h for h, _ in _lines(slow_log, "delivered")} - {h for (h,) in _lines(slow_log, "judged")}
    assert held, "the killed worker held no unacknowledged transaction: the test proves nothing"

    fast = _start_worker(server.url, fast_log)
    try:

        def all_screened() -> bool:
            done = {h for (h,) in _lines(slow_log, "judged")} | {h for (h,) in _lines(fast_log, "judged")}
            return done >= all_hashes

        _wait(all_screened, "every transaction to be screened")
    finally:
        _stop(fast)
    redelivered = {h for h, count in _lines(fast_log, "delivered") if int(count) > 1}
    assert held <= redelivered  # what the dead worker held came back to the live one
    found = asyncio.run(_findings(server.url))
    assert set(found) == {make_tx(i).hash for i in attacks}
    assert all(c == 1 for c in found.values()), found  # each attack announced once


def test_crash_between_finding_and_ack_gives_one_finding(server: NatsServer, tmp_path: Path) -> None:
    attack = make_tx(7, attack=True)
    asyncio.run(_publish(server.url, list(range(20)), {7}))
    first_log, second_log = tmp_path / "first.log", tmp_path / "second.log"
    first = _start_worker(server.url, first_log, "--crash-before-ack", attack.hash, "--concurrency", "1")
    try:
        assert first.wait(timeout=30) == 9  # it died at the chosen point
    finally:
        _stop(first)
    assert asyncio.run(_findings(server.url)) == Counter({attack.hash: 1})

    second = _start_worker(server.url, second_log)
    try:
        _wait(
            lambda: any(h == attack.hash and int(c) > 1 for h, c in _lines(second_log, "delivered")),
            "the crashed transaction to be redelivered",
        )
        _wait(lambda: len(_lines(second_log, "delivered")) >= 20 - 7, "the rest to be delivered")
    finally:
        _stop(second)
    # Redelivered, recognised as judged, acknowledged without a second judgement or finding.
    assert attack.hash not in {h for (h,) in _lines(second_log, "judged")}
    assert asyncio.run(_findings(server.url)) == Counter({attack.hash: 1})


def test_broker_restart_loses_nothing_acknowledged(server: NatsServer) -> None:
    n = 80
    attacks = {3, 33, 63, 75}

    async def scenario() -> tuple[ScreenWorker, Counter[str], Counter[str]]:
        await _publish(server.url, list(range(n // 2)), attacks)
        screened: set[str] = set()
        bus = await Bus(server.url, ack_wait_s=ACK_WAIT_S, connect_timeout_s=2).connect()
        worker = ScreenWorker(
            bus,
            {NETWORK: StubScreener(0.05)},
            concurrency=4,
            on_screened=lambda env, _: screened.add(env.tx.hash),
        )
        stop = asyncio.Event()
        running = asyncio.create_task(worker.run(stop=stop))
        deadline = time.monotonic() + 30
        while len(screened) < 10:
            assert time.monotonic() < deadline, "worker screened nothing"
            await asyncio.sleep(0.05)
        before = await _findings(server.url)
        await asyncio.to_thread(server.stop)
        # Published while the broker is down: retried until the restarted broker acknowledges.
        late = asyncio.create_task(_publish_with_retry(server.url, list(range(n // 2, n)), attacks))
        await asyncio.to_thread(server.start)
        await asyncio.wait_for(late, 60)
        deadline = time.monotonic() + 60
        while len(screened) < n:
            assert time.monotonic() < deadline, f"only {len(screened)} of {n} screened after the restart"
            await asyncio.sleep(0.05)
        stop.set()
        await asyncio.wait_for(running, 30)
        await bus.close()
        return worker, before, await _findings(server.url)

    worker, before, after = asyncio.run(scenario())
    assert before, "no finding before the restart: the test proves nothing about keeping them"
    assert before.keys() <= after.keys()  # acknowledged by the broker before it stopped: kept
    assert after == Counter({make_tx(i).hash: 1 for i in attacks})  # each attack once
    assert worker.stats.screened >= n


async def _publish_with_retry(url: str, txs: list[int], attacks: set[int]) -> None:
    bus = Bus(url, ack_wait_s=ACK_WAIT_S, connect_timeout_s=1)
    deadline = time.monotonic() + 60
    while True:  # the first connection needs the broker up; Bus retries publishing after that
        try:
            await bus.connect()
            break
        except OSError:
            assert time.monotonic() < deadline
            await asyncio.sleep(0.1)
    try:
        for i in txs:
            await bus.publish_tx(TxEnvelope(NETWORK, make_tx(i, attack=i in attacks), time.time()))
    finally:
        await bus.close()


def test_malformed_message_is_dropped_not_redelivered_for_ever(server: NatsServer) -> None:
    async def scenario() -> tuple[ScreenWorker, int, int]:
        await _publish(server.url, [1, 2, 3], set())
        async with Bus(server.url, ack_wait_s=ACK_WAIT_S) as bus:
            await bus.js.publish(f"bulwark.tx.{NETWORK}.pending", b"{not json")
            worker = ScreenWorker(bus, {NETWORK: StubScreener()})
            # Idle for twice ack_wait: a redelivered message would keep it busy (and time out here).
            await asyncio.wait_for(worker.run(idle_exit_s=2 * ACK_WAIT_S), 30)
            info = await bus.js.consumer_info("BULWARK_TXS", f"screen-{NETWORK}")
            return worker, info.num_ack_pending, info.num_pending

    worker, ack_pending, pending = asyncio.run(scenario())
    assert worker.stats.screened == 3
    assert (ack_pending, pending) == (0, 0)


def test_finding_names_the_delivery_that_judged_it(server: NatsServer) -> None:
    """A finding carries its message's delivery count and sequences, so a finding seen twice can be
    traced to a redelivery (or ruled one out) from the findings stream alone (bench/scale.py)."""

    async def scenario() -> tuple[ScreenWorker, list[dict[str, object]]]:
        await _publish(server.url, [5], {5})
        async with Bus(server.url, ack_wait_s=ACK_WAIT_S) as bus:
            sub = await bus.screen_subscription(NETWORK)
            (first,) = await sub.fetch(1, timeout=10)
            await first.nak()  # handed back unjudged: the worker gets the second delivery at once
            await sub.unsubscribe()
            worker = ScreenWorker(bus, {NETWORK: StubScreener()})
            await asyncio.wait_for(worker.run(idle_exit_s=1.0), 30)
            return worker, await bus.findings(NETWORK)

    worker, findings = asyncio.run(scenario())
    assert (worker.stats.redelivered, worker.stats.screened) == (1, 1)
    (finding,) = findings
    assert finding["delivery"] == {"num_delivered": 2, "stream_seq": 1, "consumer_seq": 2}
