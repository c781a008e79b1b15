"""What the attack was, as the incident pipeline reads it from the chain: its transactions, its call
tree replayed without the pause, and the functions of a contract it reached."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from bulwark.chain import ChainClient
from bulwark.chain.abi import selector
from bulwark.domain import CallFrame, TxHash
from bulwark.errors import BulwarkError, StoreError
from bulwark.fork.session import Fork
from bulwark.logs import get_logger
from bulwark.store import Store

log = get_logger(__name__)

__all__ = ["ATTACK_KEY", "attack_trace", "attack_txs", "attacked_functions", "captured_attack"]


ATTACK_KEY = "{}/attack"  # the incident's captured attack: {"txs": [hash, ...]} in sending order


def captured_attack(store: Store, incident_id: str) -> list[TxHash]:
    """The attack's transactions as whoever watched it send them recorded them on the incident
    (an attack of several transactions across blocks: set-up, strike, a victim's transaction)."""
    try:
        _kind, _state, body = store.artifact(ATTACK_KEY.format(incident_id))
    except StoreError:
        return []
    return [TxHash(str(h)) for h in body.get("txs") or ()]


async def attack_txs(client: ChainClient, store: Store, incident_id: str) -> tuple[TxHash, ...]:
    """The captured attack, then the flagged transactions, each after its sender's earlier
    transactions of the same block (an attacker deploys its contract and strikes with it in one
    block)."""
    out: list[TxHash] = captured_attack(store, incident_id)
    for f in store.findings(incident_id):
        if not f.get("tx_hash"):
            continue
        h = TxHash(str(f["tx_hash"]))
        receipt = await client.get_receipt(h)
        if receipt is not None:
            block = await client.get_block(receipt.block_number, full=True)
            strike = next((t for t in block.transactions if t.hash.lower() == h.lower()), None)
            if strike is not None:
                out += [
                    t.hash
                    for t in block.transactions
                    if t.sender.lower() == strike.sender.lower() and t.nonce < strike.nonce
                ]
        out.append(h)
    return tuple(dict.fromkeys(out))


async def attack_trace(client: ChainClient, rpc_url: str, attack: tuple[TxHash, ...]) -> CallFrame | None:
    """The attack as it would have run without the pause: replayed on a fork of the block
    before it was mined (its own receipt shows only the revert the pause caused), its sender's
    setup transactions of that block first. The localisation ranks what this path reaches."""
    receipts = [await client.get_receipt(h) for h in attack]
    if not attack or any(r is None for r in receipts):
        return None
    first = min(r.block_number for r in receipts if r is not None)
    try:
        async with Fork(rpc_url, first - 1) as fork:
            last = None
            for h in attack:
                tx = await client.get_transaction(h)
                if tx is None:
                    return None
                last = await fork.send(tx.sender, tx.to, tx.data, tx.value, tx.gas)
                await fork.mine()
            return await fork.client.trace_transaction(last) if last is not None else None
    except BulwarkError as exc:  # localisation goes on from the sources alone
        log.warning("attack trace unavailable", error=exc.user_message)
        return None


def attacked_functions(
    proxy: str, abi: Iterable[Mapping[str, Any]] | None, named: Any, trace: CallFrame | None
) -> set[str]:
    """Names of the contract's functions the attack reached: every call into ``proxy`` in the
    attack's call tree, and the function the finding names."""
    wanted = {str(named).lower()} if named else set()
    if trace is not None:
        wanted |= {
            str(f.selector).lower()
            for _, f in trace.walk()
            if f.to is not None and f.to.lower() == proxy.lower() and f.selector is not None
        }
    return {
        str(entry["name"])
        for entry in abi or ()
        if entry.get("type") == "function" and "0x" + selector(entry).hex() in wanted
    }
