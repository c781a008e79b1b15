"""Regression replay: the last N benign transactions that touched the protected contracts, replayed
on two forks (original and patched) and compared transaction by transaction.

Selection scans blocks backwards from the fork point; a transaction is selected when its call
tree (``trace_block``) reaches a protected address. Both forks
start at the block before the first selected transaction, both get the candidate deployed by the
same account (so every later address matches), the patched one is upgraded to it and the original
one re-upgraded to its own implementation (so both spend the same blocks), and then the whole
window is replayed on each (see :mod:`bulwark.fork.replay`).

Compared per selected transaction: status, return data, emitted events, and storage/balance
changes of the protected contracts. A benign transaction that succeeded and now reverts is a
regression (fatal); other differences are reported for a human to judge.
"""

from __future__ import annotations

import asyncio
import statistics
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from eth_utils.crypto import keccak

from bulwark.chain.convert import to_int, to_transaction
from bulwark.chain.mempool import BatchRpc
from bulwark.domain import Address, Transaction
from bulwark.domain.verify import FunctionGas, RegressionReport, TxDifference, TxOutcome
from bulwark.fork.replay import replay_window
from bulwark.fork.session import Fork

__all__ = ["BenignSet", "compare", "function_gas", "replay_pair", "select_benign"]

_SCAN_BATCH = 64


@dataclass(frozen=True, slots=True)
class BenignSet:
    selected: tuple[Transaction, ...]  # the transactions compared
    window: tuple[Transaction, ...]  # every transaction from the first selected one to the last
    fork_block: int
    timestamps: Mapping[int, int]


def _touching(traces: Sequence[Mapping[str, Any]] | None, protected: frozenset[str]) -> set[str]:
    """Hashes of the transactions whose call tree reaches a protected address (``trace_block``:
    a flat list of call frames, each with its transaction hash)."""
    out: set[str] = set()
    for frame in traces or []:
        action = frame.get("action") or {}
        if str(action.get("to") or "").lower() in protected and frame.get("transactionHash"):
            out.add(str(frame["transactionHash"]).lower())
    return out


UPGRADED_TOPIC = "0x" + keccak(text="Upgraded(address)").hex()


async def installed_at(live: BatchRpc, proxy: Address, before_block: int) -> int:
    """The block where ``proxy``'s live implementation was installed (its last ERC-1967
    ``Upgraded``), 0 when it emitted none. Transactions before it ran other code, or none at all."""
    logs = await live.request(
        "eth_getLogs",
        [{"address": proxy, "fromBlock": "0x0", "toBlock": hex(before_block), "topics": [UPGRADED_TOPIC]}],
    )
    return max((to_int(entry.get("blockNumber", 0)) for entry in logs or []), default=0)


async def select_benign(
    live: BatchRpc,
    protected: Sequence[Address],
    n: int,
    *,
    before_block: int,
    exclude: frozenset[str] = frozenset(),
    since_block: int = 0,
) -> BenignSet:
    """The last ``n`` transactions mined at or before ``before_block`` (and after ``since_block``:
    where the live implementation was installed) that reach a protected contract."""
    wanted = frozenset(p.lower() for p in protected)
    exclude = frozenset(h.lower() for h in exclude)
    picked: list[tuple[int, Transaction]] = []
    blocks: dict[int, list[Transaction]] = {}
    stamps: dict[int, int] = {}
    top = before_block
    while top > max(since_block, 0) and len(picked) < n:
        numbers = list(range(top, max(since_block, top - _SCAN_BATCH), -1))
        # One method at a time: anvil answers a batch mixing full blocks and traces very slowly.
        raw_blocks = await asyncio.gather(
            *(live.request("eth_getBlockByNumber", [hex(b), True]) for b in numbers)
        )
        # trace_block (flat frames) is linear in the block's size; debug_traceBlockByNumber on
        # anvil re-executes the block per transaction (seconds for a 200-tx block).
        traces = await asyncio.gather(*(live.request("trace_block", [hex(b)]) for b in numbers))
        for number, block, trace in zip(numbers, raw_blocks, traces, strict=True):
            txs = [to_transaction(t) for t in (block or {}).get("transactions", [])]
            blocks[number] = txs
            stamps[number] = to_int((block or {}).get("timestamp", 0))
            touching = _touching(trace, wanted)
            for tx in reversed(txs):
                if tx.hash.lower() in exclude or len(picked) >= n:
                    continue
                if tx.hash.lower() in touching or (tx.to is not None and tx.to.lower() in wanted):
                    picked.append((number, tx))
        top = numbers[-1] - 1
    if not picked:
        return BenignSet((), (), before_block, {})
    picked.reverse()
    first, last = picked[0][0], picked[-1][0]
    chosen = {tx.hash for _, tx in picked}
    window: list[Transaction] = []
    for number in range(first, last + 1):
        for tx in blocks.get(number, []):
            if tx.hash.lower() in exclude:
                continue
            window.append(tx)
    # Stop the window at the last selected transaction.
    cut = max(i for i, tx in enumerate(window) if tx.hash in chosen)
    return BenignSet(tuple(tx for _, tx in picked), tuple(window[: cut + 1]), first - 1, stamps)


async def replay_pair(
    original: Fork, patched: Fork, benign: BenignSet, protected: Sequence[Address]
) -> tuple[list[TxOutcome], list[TxOutcome], list[Mapping[str, Any]], list[Mapping[str, Any]]]:
    """Replay the window on both forks concurrently; outcomes of the selected transactions."""
    watched = frozenset(p.lower() for p in protected)
    chosen = frozenset(t.hash for t in benign.selected)
    (_, out_o, calls_o), (_, out_p, calls_p) = await asyncio.gather(
        replay_window(
            original, benign.window, benign.timestamps, one_per_block=True, collect=chosen, watched=watched
        ),
        replay_window(
            patched, benign.window, benign.timestamps, one_per_block=True, collect=chosen, watched=watched
        ),
    )
    return out_o, out_p, calls_o, calls_p


def _short(value: object, limit: int = 200) -> str:
    text = str(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def compare(
    fork_block: int,
    original: Sequence[TxOutcome],
    patched: Sequence[TxOutcome],
    history: Mapping[str, bool] | None = None,
) -> RegressionReport:
    """Every difference between the two replays of each transaction."""
    diffs: list[TxDifference] = []
    for o, p in zip(original, patched, strict=True):
        if o.status != p.status:
            diffs.append(
                TxDifference(
                    o.tx_hash,
                    "status",
                    "success" if o.status else f"revert {o.error}".strip(),
                    "success" if p.status else f"revert {p.error} {p.return_data}".strip(),
                )
            )
        if o.return_data != p.return_data:
            diffs.append(TxDifference(o.tx_hash, "return", _short(o.return_data), _short(p.return_data)))
        if o.logs != p.logs:
            diffs.append(TxDifference(o.tx_hash, "events", _short(o.logs), _short(p.logs)))
        if o.state != p.state:
            diffs.append(TxDifference(o.tx_hash, "state", _short(o.state), _short(p.state)))
        if o.balances != p.balances:
            diffs.append(TxDifference(o.tx_hash, "balance", _short(o.balances), _short(p.balances)))
    mismatches = sum(
        1 for o in original if history is not None and history.get(o.tx_hash, o.status) != o.status
    )
    return RegressionReport(fork_block, len(original), tuple(diffs), mismatches)


def broken(report: RegressionReport) -> tuple[str, ...]:
    """Transactions that succeeded on the original fork and revert on the patched one."""
    return tuple(d.tx_hash for d in report.differences if d.aspect == "status" and d.original == "success")


def _gas_by_selector(calls: Sequence[Mapping[str, Any]], target: str) -> dict[str, list[int]]:
    out: dict[str, list[int]] = {}
    stack = list(calls)
    while stack:
        frame = stack.pop()
        stack.extend(frame.get("calls", []) or [])
        if str(frame.get("to") or "").lower() != target or frame.get("type") not in ("CALL", "STATICCALL"):
            continue
        data = str(frame.get("input", "0x"))
        if len(data) >= 10:
            out.setdefault(data[:10].lower(), []).append(to_int(frame.get("gasUsed", 0)))
    return out


def function_gas(
    calls_o: Sequence[Mapping[str, Any]],
    calls_p: Sequence[Mapping[str, Any]],
    proxy: Address,
    names: Mapping[str, str],
) -> tuple[FunctionGas, ...]:
    """Median gas of every function of ``proxy`` reached in the replays (any call depth)."""
    target = proxy.lower()
    go, gp = _gas_by_selector(calls_o, target), _gas_by_selector(calls_p, target)
    out = []
    for sel in sorted(set(go) & set(gp)):
        out.append(
            FunctionGas(
                selector=sel,
                name=names.get(sel, sel),
                samples=min(len(go[sel]), len(gp[sel])),
                original_median=int(statistics.median(go[sel])),
                patched_median=int(statistics.median(gp[sel])),
            )
        )
    return tuple(out)


async def history_status(live: BatchRpc, txs: Sequence[Transaction]) -> dict[str, bool]:
    receipts = await asyncio.gather(*(live.request("eth_getTransactionReceipt", [t.hash]) for t in txs))
    return {t.hash: to_int((rc or {}).get("status", 0)) == 1 for t, rc in zip(txs, receipts, strict=True)}
