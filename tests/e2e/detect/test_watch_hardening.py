"""``bulwark watch`` must never fail open (issue #16, items 1, 2, 7 and the chaos bar), against real
anvil nodes and ``bulwark watch`` run as a separate process where a second process matters:

* a config naming another chain id than the node's: refused with one line, nothing judged;
* a chain id that changes under a running watch: no pause is sent;
* a second watch on the same store: refused with one line; a stopped watch releases the store;
* chaos: while watch runs, the node is stopped and restarted from saved state (with blocks the
  watcher had not judged yet), then replaced by a new, shorter chain. Every mined transaction
  is judged exactly once or reported as not judgeable; nothing is silently skipped.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import structlog

from bulwark.chain import ChainClient, run
from bulwark.chain.client import ChainIdMismatch
from bulwark.chain.watchers import ChainIdGuard
from bulwark.cli.main import main
from bulwark.cli.watch import _contain_sink
from bulwark.detect.persist import UNJUDGED, WATCH_LEASE
from bulwark.detect.service import Raised
from bulwark.domain import Confidence, Finding, Severity, TxHash, VulnClass
from bulwark.store import Store
from bulwark.toolchain.anvil import Anvil, AnvilOptions

pytestmark = pytest.mark.e2e

DEADLINE_S = 30.0

CONFIG = """
networks:
  local:
    chain_id: {chain_id}
    rpc_http: "env:BULWARK_E2E_RPC"
    confirmations: 0
    poll_interval_s: 0.05
    mempool: "off"
protocols:
  p:
    network: local
    contracts: {{box: {{address: "0x2222222222222222222222222222222222222222"}}}}
monitors:
  m:
    protocol: p
    cooldown_s: 0
    rules:
      - {{name: big-value, when: tx, expr: "tx.value >= 5", severity: high}}
"""


@pytest.fixture(autouse=True)
def _reset_logging() -> Iterator[None]:
    # main() points structlog at the captured stderr, which pytest closes after the test.
    yield
    structlog.reset_defaults()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _poll(what: str, ready: Callable[[], bool]) -> None:
    deadline = time.monotonic() + DEADLINE_S
    while not ready():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


def _send(node: Anvil, value: int) -> str:
    async def go() -> str:
        a = node.accounts
        async with ChainClient(node.http_url) as c:
            tx = {"from": a[0].address, "to": a[1].address, "value": hex(value)}
            return str(await c.request("eth_sendTransaction", [tx]))

    return run(go())


class WatchProcess:
    """``bulwark watch --json`` in a process of its own, on a config and a SQLite store."""

    def __init__(self, tmp: Path, port: int, name: str = "w") -> None:
        self.out, self.err = tmp / f"{name}.out", tmp / f"{name}.err"
        env = {**os.environ, "BULWARK_E2E_RPC": f"http://127.0.0.1:{port}"}
        cmd = [sys.executable, "-c", "from bulwark.cli.main import main; main()", "watch",
               "-c", str(tmp / "bulwark.yaml"), "--json", "--db", f"sqlite:///{tmp / 'w.db'}"]  # fmt: skip
        with self.out.open("w") as out, self.err.open("w") as err:
            self.proc = subprocess.Popen(cmd, stdout=out, stderr=err, env=env, start_new_session=True)

    def stop(self) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGCONT)
            self.proc.terminate()
            try:
                return self.proc.wait(DEADLINE_S)
            except subprocess.TimeoutExpired:
                self.proc.kill()
        return self.proc.wait()

    def running(self) -> bool:
        """True while it runs; its stderr as the failure when it has stopped."""
        assert self.proc.poll() is None, (
            f"watch exited {self.proc.returncode}: {self.err.read_text()[-2000:]}"
        )
        return True

    def lines(self) -> list[dict[str, Any]]:
        return [json.loads(x) for x in self.out.read_text().splitlines() if x.startswith("{")]


def _write_config(tmp: Path, chain_id: int) -> Path:
    cfg = tmp / "bulwark.yaml"
    cfg.write_text(CONFIG.format(chain_id=chain_id))
    return cfg


def test_watch_refuses_a_node_on_another_chain(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    cfg = _write_config(tmp_path, chain_id=1)
    db = f"sqlite:///{tmp_path / 'w.db'}"
    with Anvil(AnvilOptions()) as node:  # chain id 31337
        monkeypatch.setenv("BULWARK_E2E_RPC", node.http_url)
        _send(node, 9)
        capsys.readouterr()
        with pytest.raises(SystemExit) as info:
            main(["watch", "-c", str(cfg), "--json", "--db", db, "--until-block", "1"])
    assert info.value.code != 0
    err = [line for line in capsys.readouterr().err.splitlines() if line.startswith("error:")]
    assert len(err) == 1 and "serves chain id 31337, expected 1" in err[0], err
    store = Store(db)
    try:
        assert store.findings(include_withdrawn=True) == []  # nothing judged on the wrong chain
        assert [e.kind for e in store.audit_entries()] == ["chain.mismatch"]
        assert store.lease_holder(WATCH_LEASE) is None  # released on the way out
    finally:
        store.close()


class _Relayer:
    address = "0x" + "99" * 20


class _RecordingResponder:
    """Stands in for the guardian responder: records what it was asked to contain."""

    relayer = _Relayer()

    def __init__(self) -> None:
        self.asked: list[Finding] = []

    async def respond(self, finding: Finding, *_: Any, **__: Any) -> list[Any]:
        self.asked.append(finding)
        return []


def test_no_containment_is_sent_once_the_chain_id_changes() -> None:
    finding = Finding(
        detector="rule:big-value",
        vuln_class=VulnClass.ACCESS_CONTROL,
        severity=Severity.HIGH,
        confidence=Confidence.HIGH,
        title="t",
        protocol="p",
        contract=None,
        tx_hash=TxHash("0x" + "ab" * 32),
        pending=False,
        block_number=1,
    )

    async def go() -> None:
        with Anvil(AnvilOptions()) as node:
            async with ChainClient(node.http_url) as client:
                responder = _RecordingResponder()
                sink = _contain_sink(responder, {}, True, set(), ChainIdGuard(client, 31337, "local"))  # type: ignore[arg-type]
                await sink(Raised(finding))
                assert responder.asked == [finding]  # the right chain: contained
                await client.request("anvil_setChainId", [1])
                with pytest.raises(ChainIdMismatch):
                    await sink(Raised(finding))
                assert responder.asked == [finding]  # not asked again

    asyncio.run(go())


def test_a_second_watch_on_the_same_store_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    _write_config(tmp_path, chain_id=31337)
    db = f"sqlite:///{tmp_path / 'w.db'}"
    with Anvil(AnvilOptions()) as node:
        first = WatchProcess(tmp_path, node.port)
        store = Store(db)
        try:
            _poll("the first watch to take the lease",
                  lambda: first.running() and store.lease_holder(WATCH_LEASE) is not None)  # fmt: skip
            monkeypatch.setenv("BULWARK_E2E_RPC", node.http_url)
            capsys.readouterr()
            with pytest.raises(SystemExit) as info:
                main(["watch", "-c", str(tmp_path / "bulwark.yaml"), "--db", db, "--until-block", "5"])
            assert info.value.code != 0
            err = [line for line in capsys.readouterr().err.splitlines() if line.startswith("error:")]
            assert len(err) == 1 and "watch is held by" in err[0], err
            assert first.proc.poll() is None  # the first one carries on
            first.stop()
            assert store.lease_holder(WATCH_LEASE) is None  # SIGTERM: a clean exit releases it
        finally:
            first.stop()
            store.close()


def test_chaos_every_mined_transaction_is_judged_once_or_reported(tmp_path: Path) -> None:
    _write_config(tmp_path, chain_id=31337)
    port, state = _free_port(), tmp_path / "state.json"
    store = Store(f"sqlite:///{tmp_path / 'w.db'}")
    sent: list[str] = []

    def send(node: Anvil, n: int) -> list[str]:
        # Distinct values: the same sender and nonce on a new chain must not repeat a hash.
        new = [_send(node, 5 + len(sent) + i) for i in range(n)]
        sent.extend(new)
        return new

    def judged() -> list[str]:
        return [str(f["tx_hash"]) for f in store.findings(include_withdrawn=True)]

    def unjudged() -> list[str]:
        return [str(e.payload["tx_hash"]) for e in store.audit_entries() if e.kind == UNJUDGED]

    def accounted() -> bool:
        return watch.running() and set(sent) <= set(judged()) | set(unjudged())

    node = Anvil(AnvilOptions(port=port, dump_state=state)).start()
    watch = WatchProcess(tmp_path, port)
    try:
        _poll("watch to start", lambda: watch.running() and store.load("local-heads") is not None)
        send(node, 10)
        _poll("the first 10 transactions", accounted)

        # The node restarts from saved state with 3 blocks the watcher has not judged yet.
        os.kill(watch.proc.pid, signal.SIGSTOP)
        loaded = send(node, 3)
        node.stop()  # anvil dumps its state on the way out
        node = Anvil(AnvilOptions(port=port, load_state=state)).start()
        os.kill(watch.proc.pid, signal.SIGCONT)
        send(node, 10)
        _poll("the transactions around the restart", accounted)
        assert sorted(unjudged()) == sorted(loaded)  # its loaded blocks cannot be traced: reported

        # The node is replaced by a new chain, shorter than the checkpoint.
        node.stop()
        node = Anvil(AnvilOptions(port=port)).start()
        send(node, 10)
        _poll("the transactions of the new chain", accounted)
        assert watch.proc.poll() is None  # still running through all of it
    finally:
        node.stop()
        watch.stop()
    try:
        every = judged() + unjudged()
        assert sorted(every) == sorted(sent)  # each exactly once, none missing, nothing else
        kinds = [e.kind for e in store.audit_entries()]
        assert "chain.reset" in kinds or "chain.reorg" in kinds
        # What the store holds is what watch --json said.
        lines = watch.lines()
        assert sorted(x["finding"]["tx_hash"] for x in lines if x["type"] == "finding") == sorted(judged())
        assert sorted(x["tx_hash"] for x in lines if x["type"] == "unjudged") == sorted(loaded)
        # The old chain's findings were withdrawn with its blocks; the new chain's stand.
        standing = [str(f["tx_hash"]) for f in store.findings()]
        assert sorted(standing) == sorted(sent[-10:])
    finally:
        store.close()
