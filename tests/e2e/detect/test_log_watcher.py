"""The log watcher on a real anvil: the protected contract's logs of each confirmed block, once
each; the mined path then judges only the transactions that touched a protected contract, and
falls back to judging by logs when the endpoint cannot trace."""

from __future__ import annotations

import asyncio

import pytest

from bulwark.chain import ChainClient
from bulwark.chain.mempool import BatchRpc, RpcCallError
from bulwark.chain.watchers import (
    Checkpoint,
    HeadWatcher,
    LogsProcessed,
    LogWatcher,
    MemoryCheckpointStore,
)
from bulwark.config.models import RuleConfig
from bulwark.detect.builtins.rules import DeclarativeRules, RulesParams
from bulwark.detect.model import ContractInfo, ProtocolModel
from bulwark.detect.screen import Screener
from bulwark.detect.service import DetectionService, Output, Raised
from bulwark.detect.setup import Monitor
from bulwark.domain import Address, Severity
from bulwark.toolchain.anvil import Anvil, AnvilOptions

pytestmark = pytest.mark.e2e

# Deploys a contract whose every call emits one empty LOG0 (runtime 0x60006000a000).
EMITTER_INIT = "0x6560006000a0006000526006601af3"


async def _tx(client: ChainClient, sender: str, to: str | None, value: int = 0) -> str:
    tx: dict[str, str] = {"from": sender, "value": hex(value), "gas": hex(100_000)}
    if to is None:
        tx["data"] = EMITTER_INIT
    else:
        tx["to"] = to
    return str(await client.request("eth_sendTransaction", [tx]))


def _monitor(emitter: Address) -> Monitor:
    proto = ProtocolModel("p", {emitter: ContractInfo("emitter", emitter, "generic")})
    rule = RuleConfig(name="value", when="tx", expr="tx.value > 0", severity=Severity.LOW)
    return Monitor("m", proto, (DeclarativeRules(RulesParams(rules=(rule,))),), cooldown_s=0, mempool=False)


class _NoTraceRpc(BatchRpc):
    """An endpoint without the debug namespace (most hosted RPCs)."""

    async def request(self, method: str, params: object) -> object:  # type: ignore[override]
        if method.startswith("debug_"):
            raise RpcCallError(method, {"code": -32601, "message": "the method does not exist"})
        return await super().request(method, params)  # type: ignore[arg-type]


@pytest.mark.parametrize("tracing", [True, False], ids=["traced", "logs-only"])
def test_log_watcher_and_protected_only_mined_path(tracing: bool) -> None:
    async def go() -> None:
        with Anvil(AnvilOptions(automine=False)) as node:
            client = ChainClient(node.http_url)
            a = [acct.address for acct in node.accounts]
            deploy = await _tx(client, a[0], None)
            await client.mine(1)
            emitter = Address((await client.get_receipt(deploy)).contract_address or "")  # type: ignore[union-attr]
            start = await client.block_number()

            # One block: a call to the emitter with value, a value transfer elsewhere, another call.
            hit = await _tx(client, a[1], emitter, 5)
            elsewhere = await _tx(client, a[2], a[3], 7)
            plain = await _tx(client, a[4], emitter, 0)
            await client.mine(1)
            await client.mine(1)  # an empty block
            head = await client.block_number()

            # Both watchers resume from a checkpoint at the deployment block.
            deployed = await client.get_block(start)
            checkpoints = MemoryCheckpointStore()
            for name in ("l", "l2"):
                checkpoints.save(name, Checkpoint(start, deployed.hash, ((start, deployed.hash),)))
            heads = HeadWatcher(client, checkpoints, "l", confirmations=0, poll_interval_s=0.05)
            watcher = LogWatcher(heads, [emitter])
            events = [e async for e in watcher.events(until=head)]
            assert [(e.block.number, [lg.tx_hash for lg in e.logs]) for e in events] == [
                (start + 1, [hit, plain]),
                (start + 2, []),
            ]
            assert all(isinstance(e, LogsProcessed) for e in events)
            assert {lg.address for e in events for lg in e.logs} == {emitter}

            # The mined path over the same blocks, fresh: only transactions touching the emitter are
            # judged, so the value transfer elsewhere raises nothing.
            heads2 = HeadWatcher(client, checkpoints, "l2", confirmations=0, poll_interval_s=0.05)
            rpc = BatchRpc(node.http_url) if tracing else _NoTraceRpc(node.http_url)
            service = DetectionService(
                client, Screener(rpc, [_monitor(emitter)]), logs=LogWatcher(heads2, [emitter])
            )
            out: list[Output] = []
            await asyncio.wait_for(service.run(out.append, until_block=head), 30)
            raised = [o for o in out if isinstance(o, Raised)]
            assert [(r.finding.tx_hash, r.finding.block_number) for r in raised] == [(hit, start + 1)]
            assert elsewhere not in {r.finding.tx_hash for r in raised}
            await rpc.close()
            await client.close()

    asyncio.run(go())
