"""A contained attack on a chain the test owns (so it outlives any Bulwark process)."""

from __future__ import annotations

import asyncio
import pickle
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from bulwark.chain import ChainClient
from bulwark.domain import IncidentState
from bulwark.lab.contain import run_contain_async
from bulwark.lab.demo import write_demo_config
from bulwark.scenarios.corpus import load_corpus
from bulwark.scenarios.runner import RunOptions
from bulwark.store import Store
from bulwark.toolchain.anvil import Anvil, AnvilOptions
from bulwark.toolchain.solc import Compiler

SCENARIO = "spot-price-collateral"


@dataclass
class Contained:
    node: Anvil
    db: Path
    handles: Path
    incident_id: str
    relayer: str
    snapshot: str
    protocol: Any = None
    attack_txs: tuple[str, ...] = ()


def _run(coro: Any) -> Any:
    return asyncio.run(coro)


@pytest.fixture(scope="session")
def contained(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Contained]:
    """One attack contained by the real detection + respond path; the flow has not started."""
    base = tmp_path_factory.mktemp("crash")
    scenario = load_corpus().get(SCENARIO)
    db = base / "contained.db"
    store = Store(f"sqlite:///{db}")
    captured: dict[str, Any] = {}

    async def then(sctx: Any, hashes: list[Any], _out: dict[str, Any]) -> dict[str, Any]:
        # The configuration a scenario run writes for the product pipeline (bulwark.lab.demo).
        config = write_demo_config(
            sctx.world, scenario, rpc_url=node.http_url, ws_url=node.ws_url, folder=base / "config"
        )
        captured.update(protocol=sctx.protocol, hashes=hashes, config=config)
        return {}

    with Anvil(AnvilOptions()) as node, Compiler() as compiler:

        async def go() -> str:
            async with ChainClient(node.http_url) as client:
                await run_contain_async(
                    scenario, RunOptions(benign_txs=10), node, client, compiler, store=store, then=then
                )
                return await client.snapshot()

        snapshot = _run(go())
        incidents = [i for i in store.incidents() if i.state is IncidentState.CONTAINED]
        assert incidents, "containment opened no incident"
        incident_id = incidents[0].id
        for other in incidents[1:]:
            store.transition(other.id, IncidentState.CLOSED, "duplicate")
        store.close()
        handles = base / "handles.pickle"
        protocol = captured["protocol"]
        handles.write_bytes(
            pickle.dumps((scenario, protocol, captured["hashes"], incident_id, captured["config"]))
        )
        yield Contained(
            node,
            db,
            handles,
            incident_id,
            protocol.deployer.address,
            snapshot,
            protocol,
            tuple(captured["hashes"]),
        )


def _fresh(contained: Contained, tmp: Path) -> str:
    """Chain and database back to just after containment."""

    async def rewind() -> None:
        async with ChainClient(contained.node.http_url) as client:
            await client.revert(contained.snapshot)
            contained.snapshot = await client.snapshot()

    _run(rewind())
    db = tmp / "bulwark.db"
    shutil.copyfile(contained.db, db)
    return f"sqlite:///{db}"
