"""A Bulwark process that carries one contained incident through the flow, for the crash test.

    python -m tests.support.full_worker HANDLES.pickle DB_URL RPC_URL WORKDIR [CRASH_AFTER_STEP]

With CRASH_AFTER_STEP it kills itself (SIGKILL: no cleanup, no flush) right after that step's
transition is committed, as a crash at that state would.
"""

from __future__ import annotations

import asyncio
import os
import pickle
import signal
import sys
from pathlib import Path

from bulwark.app.full import FullOptions, IncidentSteps
from bulwark.chain import ChainClient
from bulwark.flow import FlowEvent, IncidentFlow
from bulwark.store import Store
from bulwark.toolchain.solc import Compiler


def main() -> None:
    handles, db_url, rpc_url, workdir = sys.argv[1:5]
    crash_after = sys.argv[5] if len(sys.argv) > 5 else None
    with open(handles, "rb") as fh:
        scenario, protocol, attack_txs, incident_id = pickle.load(fh)

    def on_event(e: FlowEvent) -> None:
        print(f"{e.step} {e.kind}", flush=True)
        if crash_after and e.step == crash_after and e.kind == "done":
            os.kill(os.getpid(), signal.SIGKILL)

    async def go() -> str:
        store = Store(db_url)
        with Compiler() as compiler:
            async with ChainClient(rpc_url) as client:
                options = FullOptions(workdir=Path(workdir), regress=5, benign_after=5, max_candidates=1)
                steps = IncidentSteps(scenario, protocol, attack_txs, rpc_url, client, compiler, options)
                flow = IncidentFlow(store, steps.steps(), on_event=on_event)
                return (await flow.run(incident_id)).value

    print("final", asyncio.run(go()), flush=True)


if __name__ == "__main__":
    main()
