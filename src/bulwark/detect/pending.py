"""A pending transaction whose sender has earlier ones still pending (fund a contract, then use it;
deploy it, then strike with it): simulated after them in one block, since anvil's ``pending``
state would run the screened transaction twice and ``latest`` lacks what the earlier ones do."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from bulwark.chain.bytecode import create_address
from bulwark.chain.convert import to_int
from bulwark.chain.mempool import BatchRpc, RpcCallError, tx_request
from bulwark.detect.base import SimulationFailed
from bulwark.detect.model import TxEvent
from bulwark.detect.trace import RawFrame, parse_call_trace
from bulwark.domain import Transaction


async def _created(rpc: BatchRpc, t: Transaction, overrides: dict[str, dict[str, Any]]) -> None:
    """An earlier pending contract creation as state overrides: some nodes' ``eth_simulateV1``
    (anvil's) cannot run a call without ``to``, and an attacker typically deploys the contract
    and strikes with it in the same block. The creation is traced alone (its state diff), and
    the contract it makes is put at the address its own nonce gives it."""
    try:
        diff = await rpc.request(
            "debug_traceCall",
            [tx_request(t), "latest", {"tracer": "prestateTracer", "tracerConfig": {"diffMode": True}}],
        )
    except RpcCallError as exc:
        raise SimulationFailed(f"cannot simulate the pending creation {t.hash}: {exc.user_message}") from exc
    post = {k.lower(): v for k, v in ((diff or {}).get("post") or {}).items()}
    used = to_int((post.get(t.sender.lower()) or {}).get("nonce", 1)) - 1  # the nonce the trace ran at
    traced_at, placed_at = create_address(t.sender, used).lower(), create_address(t.sender, t.nonce)
    for addr, acct in post.items():
        target = placed_at if addr == traced_at else addr
        o = overrides.setdefault(target, {})
        if "code" in acct:
            o["code"] = acct["code"]
        if "balance" in acct:
            o["balance"] = acct["balance"]
        storage = acct.get("storage") or {}
        if storage:
            key = "state" if target == placed_at else "stateDiff"  # a new contract: all of it
            o[key] = {**o.get(key, {}), **storage}


async def simulate_after(
    rpc: BatchRpc, earlier: Sequence[Transaction], tx: Transaction, next_block: dict[str, str]
) -> TxEvent:
    """``tx`` simulated after its sender's ``earlier`` pending transactions, in one block
    (``eth_simulateV1`` on ``latest`` with ``next_block`` as its overrides): the last call's logs,
    as a one-frame trace (the node gives no call tree here)."""
    overrides: dict[str, dict[str, Any]] = {}
    calls = []
    for t in earlier:
        if t.to is None:
            await _created(rpc, t, overrides)
        else:
            calls.append({**tx_request(t), "nonce": hex(t.nonce)})
    calls.append({**tx_request(tx), "nonce": hex(tx.nonce)})
    block: dict[str, Any] = {"calls": calls, "blockOverrides": next_block}
    if overrides:
        block["stateOverrides"] = overrides
    params = [{"blockStateCalls": [block], "validation": False}, "latest"]
    try:
        blocks = await rpc.request("eth_simulateV1", params)
        last = blocks[0]["calls"][-1]
    except (RpcCallError, KeyError, IndexError, TypeError) as exc:
        raise SimulationFailed(
            f"cannot simulate pending transaction {tx.hash} after its sender's earlier ones"
        ) from exc
    ok = last.get("status") in ("0x1", 1, True)
    raw: RawFrame = {
        "type": "CALL" if tx.to is not None else "CREATE",
        "from": tx.sender,  # type: ignore[typeddict-unknown-key]
        "input": "0x" + tx.data.hex(),
        "value": hex(tx.value),
        "logs": [
            {"address": lg["address"], "topics": lg["topics"], "data": lg["data"], "position": "0x0"}
            for lg in last.get("logs") or []
        ],
    }
    if tx.to is not None:
        raw["to"] = tx.to
    if not ok:
        raw["error"] = "execution reverted"
    root, steps = parse_call_trace(raw, tx.hash)
    return TxEvent(tx, True, root, None, steps)


__all__ = ["simulate_after"]
