"""A responder process for the takeover test: the real lease (PostgreSQL) and findings consumer
(JetStream) of :mod:`bulwark.app.roles`, with a stand-in action that logs what it contains.

    python -m tests.support.nats_responder NATS_URL DB_URL LOG_FILE [LEASE_TTL_S]

LOG_FILE gets ``ready``, then ``active T`` when this process takes the lease (T: wall clock) and
``acted TX_HASH`` per finding acted on (before its acknowledgement).
"""

from __future__ import annotations

import asyncio
import signal
import sys
import time
from pathlib import Path

from bulwark.app.roles import LEASE_TTL_S, holding_role, respond_loop
from bulwark.chain.bus import Bus, TxEnvelope
from bulwark.domain import Finding
from bulwark.store import Store

NETWORK = "testnet"
PROTOCOL = "demo"


async def _main(url: str, db_url: str, log_path: Path, ttl_s: float) -> None:
    def log(line: str) -> None:
        with log_path.open("a") as f:
            f.write(line + "\n")

    store = Store(db_url)
    bus = await Bus(url, ack_wait_s=2.0).connect()

    async def act(finding: Finding, env: TxEnvelope | None) -> None:
        log(f"acted {finding.tx_hash}")

    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    log("ready")
    await holding_role(
        store,
        f"respond:{PROTOCOL}",
        lambda: respond_loop(bus, NETWORK, PROTOCOL, act),
        stop=stop,
        on_active=lambda: log(f"active {time.time()}"),
        ttl_s=ttl_s,
    )
    await bus.close()
    store.close()


if __name__ == "__main__":
    ttl = float(sys.argv[4]) if len(sys.argv) > 4 else LEASE_TTL_S
    asyncio.run(_main(sys.argv[1], sys.argv[2], Path(sys.argv[3]), ttl))
