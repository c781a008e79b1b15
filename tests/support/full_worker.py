"""A Bulwark process for the crash tests, killed (SIGKILL: no cleanup, no flush) at a chosen point.

    python -m tests.support.full_worker HANDLES.pickle DB_URL RPC_URL WORKDIR [CRASH_AFTER_STEP]

carries one contained incident through the flow; with CRASH_AFTER_STEP it dies right after that
step's transition is committed, as a crash at that state would.

    python -m tests.support.full_worker scenario NAME DB_URL HTTP_URL WS_URL WORKDIR sent|contained

runs ``--protect full`` of scenario NAME on the test's chain (so the chain outlives this process)
and dies right after the responder records its pause as sent, or once the pause landed and the
incident is CONTAINED (before the flow starts).
"""

from __future__ import annotations

import asyncio
import os
import pickle
import signal
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

from bulwark.chain import ChainClient
from bulwark.domain import IncidentState
from bulwark.flow import FlowEvent
from bulwark.lab.demo import load_demo_config
from bulwark.lab.full import FullOptions, carry, incident_flow, record_attack, run_full_async
from bulwark.scenarios.corpus import load_corpus
from bulwark.scenarios.runner import RunOptions
from bulwark.store import Store
from bulwark.store.db import ActionRecord, IncidentRecord
from bulwark.toolchain.anvil import Anvil, DevAccount, dev_accounts
from bulwark.toolchain.solc import Compiler


class KilledAfterPause(Store):
    """The store a responder records into; the process dies at ``kill_at``."""

    kill_at = "sent"

    def record_action(self, incident_id: str, kind: str, status: str, **kw: Any) -> ActionRecord:
        out = super().record_action(incident_id, kind, status, **kw)
        if status == "sent" and self.kill_at == "sent":
            print("pause sent", incident_id, flush=True)
            os.kill(os.getpid(), signal.SIGKILL)
        return out

    def transition(
        self, incident_id: str, to: IncidentState, reason: str, data: dict[str, Any] | None = None
    ) -> IncidentRecord:
        out = super().transition(incident_id, to, reason, data)
        if to is IncidentState.CONTAINED and self.kill_at == "contained":
            print("contained", incident_id, flush=True)
            os.kill(os.getpid(), signal.SIGKILL)
        return out


@dataclass(frozen=True)
class _Node:
    """The test's anvil, seen from this process: its URLs and its default dev accounts."""

    http_url: str
    ws_url: str

    @property
    def accounts(self) -> list[DevAccount]:
        return list(dev_accounts(10))


def run_scenario(name: str, db_url: str, http_url: str, ws_url: str, workdir: str, kill_at: str) -> None:
    store = KilledAfterPause(db_url)
    store.kill_at = kill_at
    node = cast(Anvil, _Node(http_url, ws_url))

    async def go() -> dict[str, Any]:
        with Compiler() as compiler:
            async with ChainClient(http_url) as client:
                return await run_full_async(
                    load_corpus().get(name),
                    RunOptions(benign_txs=10),
                    node,
                    client,
                    compiler,
                    store=store,
                    full=FullOptions(workdir=Path(workdir), regress=5, benign_after=5, max_candidates=1),
                )

    print("final", asyncio.run(go()).get("flow_state"), flush=True)


def main() -> None:
    if sys.argv[1] == "scenario":
        run_scenario(*sys.argv[2:8])
        return
    handles, db_url, rpc_url, workdir = sys.argv[1:5]
    crash_after = sys.argv[5] if len(sys.argv) > 5 else None
    with open(handles, "rb") as fh:
        scenario, protocol, attack_txs, incident_id, config_path = pickle.load(fh)

    def on_event(e: FlowEvent) -> None:
        print(f"{e.step} {e.kind}", flush=True)
        if crash_after and e.step == crash_after and e.kind == "done":
            os.kill(os.getpid(), signal.SIGKILL)

    async def go() -> str:
        store = Store(db_url)
        config = load_demo_config(Path(config_path), protocol)
        record_attack(store, incident_id, attack_txs)  # as a scenario run records it
        with Compiler() as compiler:
            async with ChainClient(rpc_url) as client, ChainClient(rpc_url) as relay_client:
                options = FullOptions(
                    workdir=Path(workdir), regress=5, benign_after=5, max_candidates=1, on_event=on_event
                )
                flow = incident_flow(
                    config, store, incident_id, client, relay_client, protocol, options,
                    rpc_url=rpc_url, scenario=scenario, attack_txs=attack_txs, compiler=compiler,
                )  # fmt: skip
                return (await carry(flow, store, incident_id, client)).value

    print("final", asyncio.run(go()), flush=True)


if __name__ == "__main__":
    main()
