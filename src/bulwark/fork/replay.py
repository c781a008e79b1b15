"""Replaying history on a fork: a window of transactions, and the observed attack.

Replays keep the original order, senders (impersonated), calldata and value (the gas limit is
raised to at least ``REPLAY_GAS``), and the original block boundaries (automine off, one
``anvil_mine`` per original block). Every
transaction of the window is replayed, not only the interesting ones, so nonces, approvals and
contract-creation addresses match history.

The attack is blocked when, after replaying it with the candidate installed, the protected
contracts (and declared victims) lost nothing and the attacker gained nothing, per asset —
measured on balances, not on revert status.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from eth_utils.crypto import keccak

from bulwark.chain.abi import decode_result, encode_call
from bulwark.chain.convert import to_address, to_bytes, to_int, to_transaction
from bulwark.chain.mempool import BatchRpc
from bulwark.domain import Address, Transaction, TxHash
from bulwark.domain.verify import AttackReplay, BalanceChange, TxOutcome
from bulwark.errors import BulwarkError
from bulwark.fork.session import Fork, VerifyError

__all__ = [
    "TRANSFER_TOPIC",
    "AttackPlan",
    "ReplayedTx",
    "fetch_transactions",
    "measure",
    "plan_attack",
    "replay_attack",
    "replay_window",
    "window_transactions",
]

TRANSFER_TOPIC = "0xddf252ad1be2c89b69c2b068fc378daa952ba7f163c4a11628f55a4df523b3ef"
_ERC20_ABI: list[dict[str, Any]] = [
    {
        "type": "function",
        "name": "balanceOf",
        "stateMutability": "view",
        "inputs": [{"name": "a", "type": "address"}],
        "outputs": [{"name": "", "type": "uint256"}],
    }
]
REPLAY_GAS = 15_000_000
_CALL_TRACER = {"tracer": "callTracer"}
_DIFF_TRACER = {"tracer": "prestateTracer", "tracerConfig": {"diffMode": True}}


@dataclass(frozen=True, slots=True)
class ReplayedTx:
    original: Transaction
    fork_hash: TxHash


async def fetch_transactions(live: BatchRpc, hashes: Sequence[str]) -> list[Transaction]:
    raws = await asyncio.gather(*(live.request("eth_getTransactionByHash", [h]) for h in hashes))
    out = []
    for h, raw in zip(hashes, raws, strict=True):
        if raw is None or raw.get("blockNumber") is None:
            raise VerifyError(
                f"transaction {h} is not mined on the live chain; give mined attack transactions"
            )
        out.append(to_transaction(raw))
    return out


async def window_transactions(
    live: BatchRpc, first_block: int, last: Transaction
) -> tuple[list[Transaction], dict[int, int]]:
    """Every transaction from the start of ``first_block`` up to and including ``last``, and the
    timestamp of each block."""
    assert last.block_number is not None
    numbers = range(first_block, last.block_number + 1)
    blocks = await asyncio.gather(*(live.request("eth_getBlockByNumber", [hex(n), True]) for n in numbers))
    out: list[Transaction] = []
    stamps = {n: to_int(b.get("timestamp", 0)) for n, b in zip(numbers, blocks, strict=True)}
    for block in blocks:
        for raw in block.get("transactions", []):
            tx = to_transaction(raw)
            out.append(tx)
            if tx.hash == last.hash:
                return out, stamps
    return out, stamps


async def replay_window(
    fork: Fork,
    txs: Sequence[Transaction],
    timestamps: Mapping[int, int] | None = None,
    *,
    one_per_block: bool = False,
    collect: frozenset[str] = frozenset(),
    watched: frozenset[str] = frozenset(),
    chunk: int = 32,
) -> tuple[list[ReplayedTx], list[TxOutcome], list[Mapping[str, Any]]]:
    """Send ``txs`` in order, one mined block per original block (at the original block's
    timestamp when known and possible). Returns fork-side hashes, and the outcomes (plus raw
    callTracer trees) of the transactions whose original hash is in ``collect``.

    Outcomes are traced as the replay goes, every ``chunk`` transactions: anvil traces a mined
    transaction by re-executing from its parent state, and states a few hundred blocks old are
    slow to rebuild (or lost, on a fork). ``one_per_block`` mines every transaction in a block of
    its own, which keeps each trace short (both forks of a comparison are replayed the same way,
    so the comparison is unaffected)."""
    stamps = timestamps or {}
    # Fees on the fork need not match history; give every sender enough ETH for gas (the same
    # top-up on every fork, so comparisons are unaffected).
    senders = list(dict.fromkeys(tx.sender for tx in txs))
    balances = await fork.many([("eth_getBalance", [s, "latest"]) for s in senders])
    await fork.many(
        [("anvil_setBalance", [s, hex(to_int(b) + 10**21)]) for s, b in zip(senders, balances, strict=True)]
    )
    replayed: list[ReplayedTx] = []
    results: list[TxOutcome] = []
    calls: list[Mapping[str, Any]] = []
    pending: list[ReplayedTx] = []

    async def flush() -> None:
        if pending:
            out, raw = await outcomes(fork, pending, watched)
            results.extend(out)
            calls.extend(raw)
            pending.clear()

    current: int | None = None
    for tx in txs:
        if current is not None and (one_per_block or tx.block_number != current):
            await fork.mine(stamps.get(current))
            if len(pending) >= chunk:
                await flush()
        current = tx.block_number
        # A generous gas limit: a candidate that costs more gas must not "fail" a benign replay
        # (or "block" an attack) only because of the limit its original sender estimated; the
        # extra cost shows in the gas figures instead.
        fork_hash = await fork.send(tx.sender, tx.to, tx.data, tx.value, max(tx.gas, REPLAY_GAS))
        replayed.append(ReplayedTx(tx, fork_hash))
        if tx.hash in collect:
            pending.append(replayed[-1])
    if current is not None:
        await fork.mine(stamps.get(current))
    await flush()
    return replayed, results, calls


def _frames(frame: Mapping[str, Any]) -> Iterable[Mapping[str, Any]]:
    yield frame
    for child in frame.get("calls", []) or []:
        yield from _frames(child)


async def outcomes(
    fork: Fork, replayed: Sequence[ReplayedTx], watched: frozenset[str]
) -> tuple[list[TxOutcome], list[Mapping[str, Any]]]:
    """Status, gas, return data, logs and the state changes to ``watched`` of each replay.

    Also returns the raw callTracer trees (for per-function gas).
    """
    hashes = [r.fork_hash for r in replayed]
    receipts, calls, diffs = await asyncio.gather(
        fork.many([("eth_getTransactionReceipt", [h]) for h in hashes]),
        fork.many([("debug_traceTransaction", [h, _CALL_TRACER]) for h in hashes]),
        fork.many([("debug_traceTransaction", [h, _DIFF_TRACER]) for h in hashes]),
    )
    out: list[TxOutcome] = []
    for r, rc, call, diff in zip(replayed, receipts, calls, diffs, strict=True):
        if rc is None:
            raise VerifyError(f"replay of {r.original.hash} was not mined on the fork")
        logs = tuple(
            (
                str(lg["address"]).lower(),
                tuple(str(t) for t in lg.get("topics", [])),
                str(lg.get("data", "0x")),
            )
            for lg in rc.get("logs", [])
        )
        out.append(
            TxOutcome(
                tx_hash=r.original.hash,
                status=to_int(rc.get("status", 0)) == 1,
                gas_used=to_int(rc.get("gasUsed", 0)),
                return_data="0x" + to_bytes(call.get("output")).hex(),
                logs=logs,
                state=_watched_state(diff, watched),
                balances=_watched_balances(diff, watched),
                error=str(call.get("error") or ""),
            )
        )
    return out, list(calls)


def _watched_state(
    diff: Mapping[str, Any], watched: frozenset[str]
) -> dict[str, dict[str, tuple[str | None, str | None]]]:
    pre, post = diff.get("pre", {}) or {}, diff.get("post", {}) or {}
    out: dict[str, dict[str, tuple[str | None, str | None]]] = {}
    for addr in sorted(set(pre) | set(post)):
        if addr.lower() not in watched:
            continue
        before = (pre.get(addr) or {}).get("storage", {}) or {}
        after = (post.get(addr) or {}).get("storage", {}) or {}
        slots = {
            s: (before.get(s), after.get(s, None if s not in before else "0x" + "00" * 32))
            for s in sorted(set(before) | set(after))
        }
        changed = {s: v for s, v in slots.items() if v[0] != v[1]}
        if changed:
            out[addr.lower()] = changed
    return out


def _watched_balances(diff: Mapping[str, Any], watched: frozenset[str]) -> dict[str, tuple[int, int]]:
    pre, post = diff.get("pre", {}) or {}, diff.get("post", {}) or {}
    out: dict[str, tuple[int, int]] = {}
    for addr, after in post.items():
        if addr.lower() in watched and "balance" in (after or {}):
            out[addr.lower()] = (to_int((pre.get(addr) or {}).get("balance", 0)), to_int(after["balance"]))
    return out


# -- the attack --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class AttackPlan:
    attack: tuple[Transaction, ...]
    window: tuple[Transaction, ...]  # every tx from the first attack block through the last attack tx
    timestamps: Mapping[int, int]  # original block timestamps of the window
    fork_block: int
    victims: tuple[Address, ...]
    attackers: tuple[Address, ...]
    assets: tuple[Address, ...]


# The guardian's emergency entry points. A containment transaction inside the attack window is
# the defence, not part of the attack: replaying it would block the attack whatever the candidate.
CONTAINMENT_SIGNATURES = (
    "pause(address)",
    "pauseMany(address[])",
    "pauseSelectors(address,bytes4[])",
    "blockAccounts(address,address[])",
    "tightenOutflowLimit(address,address,uint16,uint32)",
    "tripOutflowLimit(address,address)",
    "pauseWithConsensus(address,bytes4[],bytes32,uint256,bytes[])",
    "pauseCritical(address,bytes4[],bytes32)",
)
CONTAINMENT_SELECTORS = frozenset(keccak(text=sig)[:4] for sig in CONTAINMENT_SIGNATURES)


def is_containment(tx: Transaction, defenders: frozenset[str]) -> bool:
    return tx.sender.lower() in defenders or tx.data[:4] in CONTAINMENT_SELECTORS


async def plan_attack(
    live: BatchRpc,
    attack_hashes: Sequence[str],
    *,
    protected: Sequence[Address],
    assets: Sequence[Address] = (),
    defenders: Sequence[Address] = (),
) -> AttackPlan:
    """Who attacked, who is protected and which tokens to count, from the live chain.

    The replay window keeps everything else that happened between the attack's transactions
    (a victim's deposit being front-run, say) except the containment: transactions from
    ``defenders`` (the sentinel, the relayer) and calls of the guardian's emergency functions."""
    txs = sorted(
        await fetch_transactions(live, attack_hashes),
        key=lambda t: (t.block_number or 0, t.transaction_index or 0),
    )
    first, last = txs[0], txs[-1]
    assert first.block_number is not None
    window, stamps = await window_transactions(live, first.block_number, last)
    attack_set = {t.hash.lower() for t in txs}
    blocked_by = frozenset(d.lower() for d in defenders)
    window = [t for t in window if t.hash.lower() in attack_set or not is_containment(t, blocked_by)]
    receipts = await asyncio.gather(*(live.request("eth_getTransactionReceipt", [t.hash]) for t in txs))
    protected_set = {p.lower() for p in protected}
    found_assets: dict[str, None] = {a.lower(): None for a in assets}
    attackers: dict[str, None] = {}
    for tx, rc in zip(txs, receipts, strict=True):
        attackers.setdefault(tx.sender.lower())
        if rc and rc.get("contractAddress"):
            attackers.setdefault(str(rc["contractAddress"]).lower())
        for lg in (rc or {}).get("logs", []):
            topics = lg.get("topics", [])
            if len(topics) == 3 and topics[0] == TRANSFER_TOPIC:
                found_assets.setdefault(str(lg["address"]).lower())
    for tx in txs:  # the attacker's contracts it called (deployed before the window, too)
        if tx.to is not None and tx.to.lower() not in protected_set and tx.to.lower() not in found_assets:
            attackers.setdefault(tx.to.lower())
    return AttackPlan(
        attack=tuple(txs),
        window=tuple(window),
        timestamps=stamps,
        fork_block=first.block_number - 1,
        victims=tuple(to_address(p) for p in dict.fromkeys(protected_set)),
        attackers=tuple(to_address(a) for a in attackers if a not in protected_set),
        assets=tuple(to_address(a) for a in found_assets),
    )


async def measure(
    fork: Fork, holders: Sequence[Address], assets: Sequence[Address]
) -> dict[tuple[str, str], int]:
    """Token balances (and ETH, as asset "ETH") of every holder."""
    pairs = [(h, a) for h in holders for a in assets]
    calls: list[tuple[str, Sequence[Any]]] = [
        ("eth_call", [{"to": a, "data": "0x" + encode_call(_ERC20_ABI, "balanceOf", h).hex()}, "latest"])
        for h, a in pairs
    ]
    calls += [("eth_getBalance", [h, "latest"]) for h in holders]
    results = await fork.many(calls)
    out: dict[tuple[str, str], int] = {}
    for (h, a), raw in zip(pairs, results[: len(pairs)], strict=True):
        out[(h.lower(), a.lower())] = int(decode_result(_ERC20_ABI, "balanceOf", to_bytes(raw)))
    for h, raw in zip(holders, results[len(pairs) :], strict=True):
        out[(h.lower(), "ETH")] = to_int(raw)
    return out


_PRICE_ABI: list[dict[str, Any]] = [
    {
        "type": "function",
        "name": "price",
        "stateMutability": "view",
        "inputs": [{"name": "a", "type": "address"}],
        "outputs": [{"name": "", "type": "uint256"}],
    }
]


async def prices(fork: Fork, oracle: Address, assets: Sequence[Address]) -> dict[str, int]:
    """``oracle.price(asset)`` for every asset it prices (value of 1e18 units); others are left out."""
    out: dict[str, int] = {}
    for asset in assets:
        data = "0x" + encode_call(_PRICE_ABI, "price", asset).hex()
        try:
            raw = await fork.rpc("eth_call", [{"to": oracle, "data": data}, "latest"])
        except BulwarkError:
            continue
        value = int(decode_result(_PRICE_ABI, "price", to_bytes(raw)))
        if value > 0:
            out[asset.lower()] = value
    return out


async def replay_attack(
    fork: Fork, plan: AttackPlan, install: str, price_oracle: Address | None = None
) -> tuple[AttackReplay, list[TxOutcome]]:
    """Replay the attack window on a fork that already runs the candidate."""
    holders = list(dict.fromkeys([*plan.victims, *plan.attackers]))
    priced = await prices(fork, price_oracle, plan.assets) if price_oracle is not None else {}
    before = await measure(fork, holders, plan.assets)
    watched = frozenset(v.lower() for v in plan.victims)
    _, results, _ = await replay_window(
        fork, plan.window, plan.timestamps, collect=frozenset(t.hash for t in plan.attack), watched=watched
    )
    after = await measure(fork, holders, plan.assets)
    changes: list[BalanceChange] = []
    victims = {v.lower() for v in plan.victims}
    for (holder, asset), old in sorted(before.items()):
        if asset == "ETH" and holder not in victims:
            continue  # EOAs pay gas in ETH; only protected contracts' ETH counts
        changes.append(BalanceChange(holder, asset, old, after[(holder, asset)]))
    report = AttackReplay(
        fork_block=plan.fork_block,
        install=install,
        txs=tuple(results),
        victims=tuple(sorted(victims)),
        attackers=tuple(sorted({a.lower() for a in plan.attackers})),
        assets=tuple(sorted(a.lower() for a in plan.assets)),
        changes=tuple(changes),
        net=tuple(_net(changes, victims)),
        prices=priced,
    )
    return report, results


def _net(changes: Sequence[BalanceChange], victims: set[str]) -> list[BalanceChange]:
    """Per asset: the victims' summed change and the attackers' summed change (transfers between
    protected contracts cancel out). ETH is left out of the attackers' sum (gas)."""
    out: list[BalanceChange] = []
    for group, members in (("victims", victims), ("attackers", {c.holder for c in changes} - victims)):
        by_asset: dict[str, tuple[int, int]] = {}
        for c in changes:
            if c.holder in members:
                b, a = by_asset.get(c.asset, (0, 0))
                by_asset[c.asset] = (b + c.before, a + c.after)
        out += [BalanceChange(group, asset, b, a) for asset, (b, a) in sorted(by_asset.items())]
    return out
