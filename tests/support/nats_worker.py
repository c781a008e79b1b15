"""A screen worker process for the scale-out fault tests, with a deterministic stand-in screener.

    python -m tests.support.nats_worker NATS_URL LOG_FILE [--delay S] [--concurrency N]
        [--ack-wait S] [--crash-before-ack TX_HASH]

It runs the real :class:`bulwark.app.roles.ScreenWorker` (real broker, real consumer, acks, KV,
findings stream); only the judging is a stand-in (:class:`StubScreener`): a transaction whose input
starts with ``0xbad0`` is an attack. Every delivery and every judged transaction is appended to
LOG_FILE (``delivered HASH N`` / ``judged HASH``) so the test can see what happened after a kill.
With ``--crash-before-ack``, the process dies (``os._exit``, no cleanup) after publishing that
transaction's findings and before acknowledging it, as a worker killed at that point would.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
from pathlib import Path

from nats.aio.msg import Msg

from bulwark.app.roles import ScreenWorker
from bulwark.chain.bus import Bus, TxEnvelope, decode_tx
from bulwark.domain import Address, Confidence, Finding, Hash32, Severity, Transaction, TxHash, VulnClass

NETWORK = "testnet"
ATTACK = bytes.fromhex("bad0")


def make_tx(i: int, *, attack: bool = False) -> Transaction:
    return Transaction(
        hash=TxHash("0x" + f"{i:064x}"),
        sender=Address("0x" + f"{1000 + i % 7:040x}"),
        to=Address("0x" + "22" * 20),
        value=0,
        data=(ATTACK if attack else b"\x00\x01") + i.to_bytes(4, "big"),
        nonce=i,
        gas=100_000,
        max_fee_per_gas=10**10,
        max_priority_fee_per_gas=10**9,
    )


class StubScreener:
    """Judges by the input's first bytes, after ``delay_s`` to twice that (simulation time)."""

    def __init__(self, delay_s: float = 0.0) -> None:
        self.delay_s = delay_s

    def note_pending(self, tx: Transaction) -> None:
        return None

    async def refresh(self, block_number: int = 0) -> None:
        return None

    async def screen(self, tx: Transaction) -> list[Finding]:
        if self.delay_s:  # 1x to 2x, by hash: completions spread out, so some are always in flight
            await asyncio.sleep(self.delay_s * (1 + int(tx.hash, 16) % 5 / 4))
        if not tx.data.startswith(ATTACK):
            return []
        return [
            Finding(
                detector="stub-attack",
                vuln_class=VulnClass.ACCESS_CONTROL,
                severity=Severity.CRITICAL,
                confidence=Confidence.HIGH,
                title="stand-in attack",
                protocol="demo",
                contract=tx.to,
                tx_hash=tx.hash,
                pending=True,
            )
        ]

    async def judge_mined(self, tx: Transaction, block_number: int, block_hash: Hash32) -> list[Finding]:
        return await self.screen(tx)


class LoggingWorker(ScreenWorker):
    log_path: Path | None = None
    crash_before_ack: str | None = None

    def _log(self, line: str) -> None:
        assert self.log_path is not None
        with self.log_path.open("a") as f:
            f.write(line + "\n")

    async def handle(self, msg: Msg) -> None:
        self._log(f"delivered {decode_tx(msg.data).tx.hash} {msg.metadata.num_delivered}")
        await super().handle(msg)

    async def _ack(self, msg: Msg, env: TxEnvelope) -> None:
        if env.tx.hash == self.crash_before_ack:
            os._exit(9)  # findings published and marked, not acknowledged: a crash right here
        # Logged before the acknowledgement: a kill between the two leaves a judged transaction
        # that is redelivered, never an acknowledged one the log does not show as judged.
        self._log(f"judged {env.tx.hash}")
        await super()._ack(msg, env)


async def _main(args: argparse.Namespace) -> None:
    bus = Bus(args.url, ack_wait_s=args.ack_wait)
    await bus.connect()
    log_path = Path(args.log)

    worker = LoggingWorker(bus, {NETWORK: StubScreener(args.delay)}, concurrency=args.concurrency)
    worker.log_path = log_path
    worker.crash_before_ack = args.crash_before_ack
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    with log_path.open("a") as f:
        f.write("ready\n")
    await worker.run(stop=stop)
    await bus.close()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("url")
    parser.add_argument("log")
    parser.add_argument("--delay", type=float, default=0.0)
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument("--ack-wait", type=float, default=2.0)
    parser.add_argument("--crash-before-ack")
    asyncio.run(_main(parser.parse_args()))


if __name__ == "__main__":
    main()
