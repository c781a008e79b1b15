"""A node stand-in for slow-drain tests of the screener: ``withdraw(uint256)`` calls on the lending
pool, traced as a withdrawal of that amount of USD to the caller (the pool holds ``HELD``); and the
monitor that protects only the pool's USD. Shared by the unit tests and the cluster e2e test."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from tests.unit.detect.synth import ATTACKER, E18, LENDING, USD, call, protocol, transfer_log, word

from bulwark.detect.builtins.invariant import InvariantBreak
from bulwark.detect.setup import Monitor
from bulwark.domain import Address, Transaction, TxHash

HELD = 1_000_000 * E18
WITHDRAW = bytes.fromhex("2e1a7d4d")  # withdraw(uint256)


class DrainNode:
    """Answers what the screener asks of a node for a withdrawal from the pool."""

    def __init__(self, head: int = 100) -> None:
        self.head = head

    async def request(self, method: str, params: Sequence[Any]) -> Any:
        if method == "eth_blockNumber":
            return hex(self.head)
        if method == "eth_getBlockByNumber":
            return {"number": hex(self.head), "timestamp": hex(1_700_000_000 + self.head)}
        if method == "eth_call":
            return "0x" + HELD.to_bytes(32, "big").hex()
        if method == "eth_getStorageAt":
            return "0x" + "00" * 32
        if method == "eth_getTransactionCount":  # every earlier step of the sender was mined
            return hex(10**6)
        if method == "debug_traceCall":
            req = params[0]
            data = bytes.fromhex(req["input"][2:])
            amount = int.from_bytes(data[4:36], "big")
            sender = Address(req["from"])
            logs = [transfer_log(USD, LENDING, sender, amount)]
            return call(sender, LENDING, "withdraw(uint256)", word(amount), logs=logs)
        raise AssertionError(f"unexpected {method}")

    async def close(self) -> None:
        return None


def pool_monitor(**params: Any) -> Monitor:
    """The pool's USD protected by the invariant detector alone (``params``: its thresholds)."""
    model = protocol()
    model = replace(
        model,
        assets=(replace(next(a for a in model.assets if a.name == "usd"), holders=(LENDING,)),),
        contracts={LENDING: model.contracts[LENDING], USD: model.contracts[USD]},
    )
    return Monitor("m", model, (InvariantBreak.from_settings(params),), cooldown_s=0, mempool=True)


def withdrawal(
    nonce: int, amount: int = HELD // 10, sender: Address = ATTACKER, attempt: int = 0
) -> Transaction:
    """The sender's pending withdrawal at ``nonce`` (``attempt``: its fee bump, a new hash)."""
    return Transaction(
        TxHash("0x" + f"{attempt:032x}{nonce:032x}"),
        sender,
        LENDING,
        0,
        WITHDRAW + word(amount),
        nonce,
        100_000,
        gas_price=10**9 * (attempt + 1),
    )
