"""An incident-role process for the takeover test: the real lease loop
(:func:`bulwark.app.incident_role.carry_incidents`), store (PostgreSQL) and heartbeat (JetStream KV),
with a stand-in flow.

    python -m tests.support.nats_incident NATS_URL DB_URL LOG_FILE GATES_DIR [LEASE_TTL_S]

The stand-in flow moves an incident one state along the happy path per step, each step only once
the file ``GATES_DIR/<state>`` exists (until then it stops, as a step waiting on the signers does,
and is run again on the next round). The store refuses a transition to the state an incident is
already in, so a step done twice (by the old and the new owner) fails the test.

LOG_FILE gets ``ready``, ``owned IID`` when this process takes an incident's lease and
``step IID STATE`` after each transition it committed.
"""

from __future__ import annotations

import asyncio
import signal
import sys
from pathlib import Path

from bulwark.app.incident_role import carry_incidents
from bulwark.app.status import Heartbeat
from bulwark.chain.bus import Bus
from bulwark.domain import IncidentState
from bulwark.store import Store

S = IncidentState
HAPPY = [S.DETECTED, S.CONTAINED, S.PATCHED, S.VERIFIED, S.APPROVED, S.UPGRADED, S.RESUMED, S.CLOSED]
NETWORK = "testnet"


class GatedFlow:
    def __init__(self, store: Store, gates: Path, log: Path) -> None:
        self.store, self.gates, self.log = store, gates, log

    async def run(self, incident_id: str) -> IncidentState:
        while True:
            state = self.store.incident(incident_id).state
            if state is S.CLOSED:
                return state
            step = HAPPY[HAPPY.index(state) + 1]
            if not (self.gates / step.value).exists():
                return state  # waits on people: run again on the next round
            self.store.transition(incident_id, step, "stand-in step")
            with self.log.open("a") as f:
                f.write(f"step {incident_id} {step.value}\n")


class Source:
    def __init__(self, store: Store, gates: Path, log: Path) -> None:
        self.store, self.gates, self.log = store, gates, log

    def open_incidents(self) -> list[str]:
        return [i.id for i in self.store.incidents() if i.state is not S.CLOSED]

    def flow(self, incident_id: str) -> GatedFlow:
        return GatedFlow(self.store, self.gates, self.log)


async def _main(url: str, db_url: str, log_path: Path, gates: Path, ttl_s: float) -> None:
    def log(line: str) -> None:
        with log_path.open("a") as f:
            f.write(line + "\n")

    store = Store(db_url)
    bus = await Bus(url).connect()
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    beat = Heartbeat(bus, "incident", NETWORK, interval_s=0.2)
    async with beat.running():
        log("ready")
        await carry_incidents(Source(store, gates, log_path), store, stop=stop, ttl_s=ttl_s, interval_s=0.1,
                              on_owned=lambda iid: log(f"owned {iid}"), heartbeat=beat)  # fmt: skip
    await bus.close()
    store.close()


if __name__ == "__main__":
    ttl = float(sys.argv[5]) if len(sys.argv) > 5 else 5.0
    asyncio.run(_main(sys.argv[1], sys.argv[2], Path(sys.argv[3]), Path(sys.argv[4]), ttl))
