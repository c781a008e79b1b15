"""``bulwark worker`` from a configuration file, as an operator runs it: ``--role ingest`` publishes
anvil's blocks (its checkpoint and lease in PostgreSQL, so a second run publishes nothing twice),
then ``--role screen`` drains the stream with the configured monitors."""

from __future__ import annotations

import asyncio
import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from tests.support.nats_server import nats_server
from tests.support.postgres import postgres_server

from bulwark.chain import ChainClient, Signer, TxRequest
from bulwark.chain.bus import TX_STREAM, Bus
from bulwark.toolchain.anvil import Anvil, AnvilOptions

pytestmark = pytest.mark.e2e
ROOT = Path(__file__).resolve().parents[3]
EXAMPLE = ROOT / "bulwark.example.yaml"


def _bulwark(*args: str, timeout_s: float = 120) -> subprocess.CompletedProcess[str]:
    cmd = [sys.executable, "-m", "bulwark.cli.main", *args]
    return subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=timeout_s, check=False)


async def _send(url: str, node: Anvil, n: int) -> list[str]:
    """``n`` transfers, each waited for until mined (automine answers before the block is the head)."""
    async with ChainClient(url) as client:
        sender = node.accounts[0]
        nonce = await client.get_nonce(sender.address)
        hashes = []
        for i in range(n):
            tx = TxRequest(
                to=node.accounts[1].address,
                value=1,
                gas=21_000,
                nonce=nonce + i,
                max_fee_per_gas=10**10,
                max_priority_fee_per_gas=10**9,
            )
            hashes.append(await client.send_transaction(tx, sender=Signer(sender.private_key)))
        for h in hashes:
            assert await client.wait_for_receipt(h, timeout_s=30) is not None
        return hashes


async def _stream_state(url: str) -> tuple[int, int, int]:
    """(messages published ever, waiting, unacknowledged) of the local network's screening."""
    async with Bus(url) as bus:
        info = await bus.js.stream_info(TX_STREAM)
        try:
            consumer = await bus.js.consumer_info(TX_STREAM, "screen-local")
        except Exception:
            return info.state.last_seq, info.state.messages, 0
        return info.state.last_seq, consumer.num_pending, consumer.num_ack_pending


def test_ingest_then_screen_from_the_configuration(tmp_path: Path) -> None:
    with nats_server() as broker, postgres_server() as db, Anvil(AnvilOptions()) as node:
        text = EXAMPLE.read_text()
        text = text.replace("http://127.0.0.1:8545", node.http_url).replace(
            "ws://127.0.0.1:8545", node.ws_url
        )
        text = text.replace("confirmations: 1 ", "confirmations: 0 ")
        config = tmp_path / "bulwark.yaml"
        config.write_text(text + f"\ncluster:\n  nats_url: {broker.url}\n  database_url: {db}\n")

        def ingest_until(block: int) -> int:
            done = _bulwark("worker", "-c", str(config), "--role", "ingest", "--until-block", str(block))
            assert done.returncode == 0, done.stderr
            return asyncio.run(_stream_state(broker.url))[0]

        # A first run starts at the head (nothing checkpointed yet) and checkpoints it.
        asyncio.run(_send(node.http_url, node, 1))
        assert ingest_until(asyncio.run(_head(node.http_url))) == 1
        # Three blocks while no ingest runs: the next run recovers them from the checkpoint.
        asyncio.run(_send(node.http_url, node, 3))
        head = asyncio.run(_head(node.http_url))
        assert ingest_until(head) == 4
        assert ingest_until(head) == 4  # nothing published twice

        with (tmp_path / "screen.err").open("w") as err:
            screen = subprocess.Popen(
                [sys.executable, "-m", "bulwark.cli.main", "worker", "-c", str(config), "--role", "screen"],
                cwd=ROOT,
                stdout=subprocess.PIPE,
                stderr=err,
                text=True,
            )
        try:
            deadline = time.monotonic() + 60
            while asyncio.run(_stream_state(broker.url))[1:] != (0, 0):
                assert screen.poll() is None, (tmp_path / "screen.err").read_text()
                assert time.monotonic() < deadline, "the screen worker did not drain the stream"
                time.sleep(0.2)
            # bulwark status: the worker, what it judged, nothing left for it (lag 0).
            deadline = time.monotonic() + 60
            while True:
                status = _bulwark("status", "-c", str(config), "--json")
                assert status.returncode == 0, status.stderr
                rows = [r for r in json.loads(status.stdout)["roles"] if r["pid"] == screen.pid]
                if rows and rows[0]["progress"].get("screened") == 4:
                    break
                assert time.monotonic() < deadline, f"bulwark status did not show the worker: {rows}"
                time.sleep(0.2)
            assert [(r["role"], r["scope"], r["state"], r["lag"]) for r in rows] == [
                ("screen", "local", "active", 0)
            ]
        finally:
            screen.send_signal(signal.SIGTERM)
            out, _ = screen.communicate(timeout=30)
        assert "CRITICAL" not in out and "HIGH" not in out  # plain transfers: nothing to report


async def _head(url: str) -> int:
    async with ChainClient(url) as client:
        return await client.block_number()
