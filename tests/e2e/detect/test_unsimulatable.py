"""A pending transaction the node refuses to simulate: a clear warning naming it, and screening goes
on (the next transaction is judged as usual)."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
import structlog
from structlog.testing import capture_logs

from bulwark.chain import ChainClient
from bulwark.chain.mempool import BatchRpc, MempoolWatcher, RpcCallError
from bulwark.config.models import RuleConfig
from bulwark.detect.builtins.rules import DeclarativeRules, RulesParams
from bulwark.detect.model import ContractInfo, ProtocolModel
from bulwark.detect.screen import Screener
from bulwark.detect.service import DetectionService, Output, Raised
from bulwark.detect.setup import Monitor
from bulwark.domain import Address, Severity
from bulwark.toolchain.anvil import Anvil, AnvilOptions

pytestmark = pytest.mark.e2e

POISON = "0xdead"


class _RefusingRpc(BatchRpc):
    """The node cannot simulate transactions whose input is POISON (as for a state it cannot build)."""

    async def request(self, method: str, params: Any) -> Any:
        if method == "debug_traceCall" and params[0].get("input") == POISON:
            raise RpcCallError(method, {"code": -32000, "message": "header not found"})
        return await super().request(method, params)


def test_unsimulatable_pending_transaction_is_reported_and_screening_goes_on() -> None:
    structlog.reset_defaults()  # capture_logs needs the default configuration underneath

    async def go() -> tuple[list[Output], list[str]]:
        with Anvil(AnvilOptions(automine=False)) as node:
            client = ChainClient(node.http_url, ws_url=node.ws_url)
            rpc = _RefusingRpc(node.http_url)
            dummy = Address("0x" + "11" * 20)
            proto = ProtocolModel("p", {dummy: ContractInfo("dummy", dummy, "generic")})
            rule = RuleConfig(name="value", when="tx", expr="tx.value > 0", severity=Severity.LOW)
            monitor = Monitor(
                "m", proto, (DeclarativeRules(RulesParams(rules=(rule,))),), cooldown_s=0, mempool=True
            )
            watcher = MempoolWatcher(client, poll_interval_s=0.05)
            service = DetectionService(client, Screener(rpc, [monitor]), mempool=watcher)
            out: list[Output] = []
            task = asyncio.create_task(service.run(out.append))
            await asyncio.sleep(0.5)
            a = node.accounts
            sent = []
            for value, data in ((3, POISON), (5, "0x01")):  # calldata: not pre-filtered, simulated
                tx = {"from": a[0].address, "to": a[1].address, "value": hex(value), "data": data}
                sent.append(str(await client.request("eth_sendTransaction", [tx])))
            for _ in range(200):
                if any(isinstance(o, Raised) and o.finding.tx_hash == sent[1] for o in out):
                    break
                await asyncio.sleep(0.025)
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
            await rpc.close()
            await client.close()
            return out, sent

    with capture_logs() as logs:
        out, sent = asyncio.run(go())
    raised = [o.finding for o in out if isinstance(o, Raised)]
    warnings = [e for e in logs if e["event"] == "pending transaction not simulated"]
    assert len(warnings) == 1 and "header not found" in warnings[0]["error"], logs
    assert warnings[0]["tx"] == sent[0]
    # The refused transaction raised nothing; the next one was screened and judged as usual.
    assert [f.tx_hash for f in raised] == [sent[1]]
