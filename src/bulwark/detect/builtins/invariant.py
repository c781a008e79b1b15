"""Invariant break: protected assets leave, a vault's share price falls, or an oracle jumps, in one tx;
or one sender's transactions together take more than a share of a holder's assets within a window
(a slow drain in steps each under the per-transaction bound)."""

from __future__ import annotations

import functools
import hashlib
import heapq
import json
import time
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from fractions import Fraction

from pydantic import Field

from bulwark.detect.base import About, Detector, Params, SharedState
from bulwark.detect.evm import ZERO, selector, topic_address, word
from bulwark.detect.model import AssetInfo, ChainView, ProtocolState, TxEvent
from bulwark.domain import Address, Confidence, Finding, Severity, VulnClass

SET_PRICE = selector("setPrice(address,uint256)")
_SET_PRICE = bytes.fromhex(SET_PRICE[2:])  # compared with calldata's first four bytes


# (asset, holder, holdings key) of one protected holding
_HolderKey = tuple[AssetInfo, Address, tuple[Address | None, Address]]
# (asset, holder, sender): one sender's window of outflows from one holding
_WindowKey = tuple[Address | None, Address, Address]


class InvariantParams(Params):
    # Share of a holder's balance of one asset that may leave in one transaction.
    max_outflow_share: float = Field(default=0.25, gt=0, le=1)
    # Absolute limit per asset name, in whole units (e.g. {"usd": 1_000_000}).
    max_outflow: dict[str, float] = Field(default_factory=dict)
    max_share_price_drop: float = Field(default=0.02, gt=0, lt=1)
    max_oracle_move: float = Field(default=0.25, gt=0)
    # Cumulative outflow: one sender's net outflow from a holder, summed over its pending and mined
    # transactions within the window (both bounds apply: older by blocks *or* seconds drops out),
    # as a share of what the holder held before the sender's first outflow in the window (so others
    # draining the holder meanwhile do not dilute it). None: max_outflow_share.
    max_window_share: float | None = Field(default=None, gt=0, le=1)
    window_blocks: int = Field(default=300, ge=1)
    window_s: float = Field(default=3600.0, gt=0)


@dataclass(slots=True)
class _Out:
    nonce: int  # the sender's nonce: a fee bump replaces its transaction, never adds to it
    block: int
    at: float
    amount: int  # net: a deposit by the same sender offsets a later withdrawal
    base: int  # the holder's holdings before this transaction (0: unknown)
    upto: int | None = None  # a shared window's folded entry: it stands for nonces nonce..upto


# A shared window keeps at most this many entries: the oldest (lowest nonces) are folded into one
# that counts them all until its newest member leaves the window (late, never early: it can only
# over-count). Unbounded, a sender with thousands of outflows in a window would outgrow the bus's
# message limit, and its transactions would be handed back unjudged forever.
MAX_SHARED_ENTRIES = 512


@dataclass(slots=True)
class _Window:
    """One sender's outflows from one holding within the window: the entries (by nonce) and
    their running total, with two orders to prune and find the earliest without scanning them all:
    a heap by (block, time) and a queue by time. A nonce added again (pending then mined, or a
    replacement with a higher fee) leaves its older records stale in both; they are skipped when met."""

    entries: dict[int, _Out] = field(default_factory=dict)
    total: int = 0
    by_block: list[tuple[int, float, int]] = field(default_factory=list)
    by_time: deque[tuple[float, int]] = field(default_factory=deque)

    def record(self, entry: _Out) -> None:
        earlier = self.entries.get(entry.nonce)
        self.entries[entry.nonce] = entry
        self.total += entry.amount - (earlier.amount if earlier is not None else 0)
        heapq.heappush(self.by_block, (entry.block, entry.at, entry.nonce))
        self.by_time.append((entry.at, entry.nonce))
        if len(self.by_block) > 4 * len(self.entries) + 16:  # mostly stale records: rebuild
            self.by_block = [(e.block, e.at, e.nonce) for e in self.entries.values()]
            heapq.heapify(self.by_block)
            self.by_time = deque(sorted((e.at, e.nonce) for e in self.entries.values()))

    @classmethod
    def of(cls, entries: Iterable[_Out]) -> _Window:
        w = cls()
        for e in sorted(entries, key=lambda e: e.at):
            w.record(e)
        return w

    def _drop(self, nonce: int) -> None:
        self.total -= self.entries.pop(nonce).amount

    def prune(self, oldest_block: int, oldest_at: float) -> _Out:
        """Drop the entries older than either bound; the earliest that remains."""
        while self.by_time and self.by_time[0][0] < oldest_at:
            at, nonce = self.by_time.popleft()
            e = self.entries.get(nonce)
            if e is not None and e.at == at:
                self._drop(nonce)
        while True:  # never empty: the entry just recorded is within both bounds
            block, at, nonce = self.by_block[0]
            e = self.entries.get(nonce)
            if e is None or (e.block, e.at) != (block, at):
                heapq.heappop(self.by_block)  # a stale record
            elif block < oldest_block:
                heapq.heappop(self.by_block)
                self._drop(nonce)
            else:
                return e


class OutflowLedger:
    """Per (asset, holder, sender) net outflows and per (asset, holder) observed holdings, pruned to
    a window. Entries are keyed by the sender's nonce, not the transaction hash: a transaction seen
    pending and then mined counts once, and so does one replaced by a fee bump (same nonce, new
    hash; only one of them can ever be mined), whose amount replaces the earlier one's."""

    def __init__(self, window_blocks: int, window_s: float, clock: Callable[[], float] = time.monotonic):
        self.window_blocks, self.window_s, self.clock = window_blocks, window_s, clock
        self._out: dict[_WindowKey, _Window] = {}
        self._held: dict[tuple[Address | None, Address], deque[tuple[int, float, int]]] = {}

    def _live(self, block: int, at: float, now_block: int, now: float) -> bool:
        return now_block - block <= self.window_blocks and now - at <= self.window_s

    def observe(self, key: tuple[Address | None, Address], block: int, held: int) -> None:
        now = self.clock()
        seen = self._held.setdefault(key, deque())
        if not seen or seen[-1][0] != block or seen[-1][2] != held:
            seen.append((block, now, held))
        while seen and not self._live(seen[0][0], seen[0][1], block, now):
            seen.popleft()

    def peak(self, key: tuple[Address | None, Address]) -> int:
        return max((h for _, _, h in self._held.get(key, ())), default=0)

    def add(
        self,
        key: tuple[Address | None, Address],
        sender: Address,
        nonce: int,
        block: int,
        amount: int,
        base: int,
    ) -> tuple[int, int]:
        """Record ``amount`` (net outflow of the sender's transaction at ``nonce``); the sender's
        window total and the holdings before its first outflow in the window (the peak observed
        when that is unknown)."""
        now = self.clock()
        wkey = (*key, sender)
        w = self._out.get(wkey)
        if w is None:  # not setdefault: that would build a window on every call
            w = self._out[wkey] = _Window()
        earlier = w.entries.get(nonce)
        w.record(_Out(nonce, block, now, amount, earlier.base if earlier is not None else base))
        first = w.prune(block - self.window_blocks, now - self.window_s)
        return w.total, first.base or self.peak(key)

    def recorded(self, key: tuple[Address | None, Address], sender: Address, nonce: int) -> int | None:
        """The outflow recorded for the sender's transaction at ``nonce`` (None: none)."""
        w = self._out.get((*key, sender))
        e = w.entries.get(nonce) if w is not None else None
        return e.amount if e is not None else None

    # -- the window shared by screen workers (entries of every worker, stored by the bus) ---------

    def merged(self, wkey: _WindowKey, stored: bytes | None) -> bytes:
        """The stored window (``None``: none yet) with this ledger's entries of ``wkey`` merged in
        (what the store keeps)."""
        rows = [
            [e.nonce, e.block, e.at, e.amount, e.base, *([e.upto] if e.upto is not None else [])]
            for e in _fold(self._union(wkey, _decode(stored))).values()
        ]
        return json.dumps(rows, separators=(",", ":")).encode()

    def absorb(self, wkey: _WindowKey, stored: bytes) -> bool:
        """Merge the stored window into this ledger's. True when a transaction judged on the window
        before may now be judged otherwise: it holds outflows this ledger lacked, or more than
        one (a transaction judged before another coroutine of this worker absorbed the rest)."""
        entries = _decode(stored)
        local = self._out.get(wkey)
        known = local.entries if local is not None else {}
        news = any(n not in known or known[n].amount != e.amount for n, e in entries.items())
        if news:
            # A union, not a replacement: an outflow this worker recorded while the store was
            # being written (another transaction in flight) is not in ``stored`` yet.
            self._out[wkey] = _Window.of(self._union(wkey, entries).values())
        return news or len(entries) > 1

    def _union(self, wkey: _WindowKey, entries: dict[int, _Out]) -> dict[int, _Out]:
        """``entries`` with this ledger's of ``wkey``, pruned to the window: per nonce the most
        recent record wins (a replacement, or the mined transaction), keeping the holdings first
        seen before it."""
        local = self._out.get(wkey)
        folded = [(e.nonce, e.upto) for e in entries.values() if e.upto is not None]
        for e in local.entries.values() if local is not None else ():
            last = e.upto if e.upto is not None else e.nonce
            if any(lo <= e.nonce and last <= hi for lo, hi in folded):
                continue  # counted in a stored folded entry already
            seen = entries.get(e.nonce)
            if seen is None or e.at >= seen.at:
                base = (seen.base if seen is not None else 0) or e.base
                entries[e.nonce] = _Out(e.nonce, e.block, e.at, e.amount, base, e.upto)
        if not entries:
            return entries
        oldest_block = max(e.block for e in entries.values()) - self.window_blocks
        oldest_at = self.clock() - self.window_s
        return {n: e for n, e in entries.items() if e.block >= oldest_block and e.at >= oldest_at}


def _decode(stored: bytes | None) -> dict[int, _Out]:
    """A shared window as written by :meth:`OutflowLedger.merged` (rows of nonce, block, time,
    amount, base, and for a folded entry the last nonce it stands for)."""
    if not stored:
        return {}
    rows = json.loads(stored)
    return {
        int(r[0]): _Out(
            int(r[0]), int(r[1]), float(r[2]), int(r[3]), int(r[4]), int(r[5]) if len(r) > 5 else None
        )
        for r in rows
    }


def _fold(entries: dict[int, _Out]) -> dict[int, _Out]:
    """At most MAX_SHARED_ENTRIES entries: the lowest nonces folded into one entry that sums them,
    keeps the holdings before the first, and leaves the window with the newest."""
    if len(entries) <= MAX_SHARED_ENTRIES:
        return entries
    ordered = sorted(entries.values(), key=lambda e: e.nonce)
    old, kept = (
        ordered[: len(ordered) - MAX_SHARED_ENTRIES + 1],
        ordered[len(ordered) - MAX_SHARED_ENTRIES + 1 :],
    )
    first = old[0]
    one = _Out(
        first.nonce,
        max(e.block for e in old),
        max(e.at for e in old),
        sum(e.amount for e in old),
        next((e.base for e in old if e.base), 0),
        max(e.upto if e.upto is not None else e.nonce for e in old),
    )
    return {one.nonce: one, **{e.nonce: e for e in kept}}


class InvariantBreak(Detector):
    """Protected assets outflow, share-price drop or oracle move beyond bounds in one transaction."""

    ABOUT = About("invariant-break", VulnClass.INVARIANT_BREAK, trace_only=True)
    IMPACT, CONFIDENCE = Severity.CRITICAL, Confidence.MEDIUM
    params: InvariantParams

    def setup(self) -> None:
        p = self.params
        self.ledger = OutflowLedger(p.window_blocks, p.window_s)
        self._observed: ProtocolState | None = None  # the snapshot whose holdings were recorded
        # Thresholds as exact fractions, converted once (not per transaction and holder).
        self._share = Fraction(p.max_outflow_share)
        self._window_share = Fraction(
            p.max_window_share if p.max_window_share is not None else p.max_outflow_share
        )
        self._price_drop = Fraction(p.max_share_price_drop)
        self._oracle_move = Fraction(p.max_oracle_move)
        self._keys: tuple[object, tuple[_HolderKey, ...], dict[tuple[Address | None, Address], int]] = (
            None,
            (),
            {},
        )
        # Shared by screen workers (bulwark worker --role screen): the windows written since the
        # last settle(), merged into the store there. None (the embedded default): memory only.
        self._oracles: tuple[object, frozenset[Address]] = (None, frozenset())
        self._store: SharedState | None = None
        self._scope = ""
        self._touched: set[_WindowKey] = set()

    def share(self, store: SharedState, scope: str) -> bool:
        """A sender's transactions reach whichever screen worker is free: its window is kept in
        ``store`` too, so the cumulative judgement holds across any number of workers."""
        p = self.params
        # Key part of the scope and window bounds (two monitors with other windows prune apart),
        # hashed: a bus key takes only letters, digits and -_=./
        self._scope = hashlib.sha256(f"{scope}|{p.window_blocks}|{p.window_s}".encode()).hexdigest()[:20]
        self._store = store
        self.ledger.clock = time.time  # entries from other machines: a clock they share
        return True

    async def settle(self) -> bool:
        store, touched = self._store, self._touched
        if store is None or not touched:
            return False
        self._touched = set()
        news = False
        pending = list(touched)
        try:
            while pending:
                asset, holder, sender = wkey = pending[-1]
                key = f"outflow.{self._scope}.{(asset or 'native').lower()}.{holder.lower()}.{sender.lower()}"
                stored = await store.merge(key, functools.partial(self.ledger.merged, wkey))
                news |= self.ledger.absorb(wkey, stored)
                pending.pop()
        finally:
            # Not written (the store failed): written with the next settle, whichever judgement
            # (the transaction's redelivery among them) comes next.
            self._touched.update(pending)
        return news

    def __call__(self, view: ChainView, event: TxEvent) -> Iterable[Finding]:
        if not event.success:
            return
        p = self.params
        flows = event.flows()
        yield from self._outflows(view, event, flows, p)
        yield from self._share_price(view, event, flows, p)
        yield from self._oracle(view, event, p)

    def _outflows(
        self, view: ChainView, event: TxEvent, flows: dict[tuple[Address, Address], int], p: InvariantParams
    ) -> Iterable[Finding]:
        if view.state is not self._observed:
            # Holdings change only with the snapshot (once per head), not per transaction screened.
            self._observed = view.state
            for key, value in view.state.holdings.items():
                self.ledger.observe(key, view.state.block_number, value)
        diff = event.diff
        # Only holders whose balance moved can have lost anything: the protected (asset, holder)
        # keys are indexed once per protocol, and only the moved ones are visited, in config order.
        keys, index = self._keys_of(view)
        moved = {index[k] for k in flows if k in index}
        if diff is not None:
            moved.update(index[(None, h)] for h in diff.balances if (None, h) in index)
        if not moved:
            return
        block = event.block_number if event.block_number is not None else view.state.block_number
        ws = self._window_share
        for i in sorted(moved):
            asset, holder, key = keys[i]
            snapshot = view.state.holdings.get(key)
            pre: int | None = None
            if asset.address is None:
                before_after = (diff.balances.get(holder) if diff is not None else None) or (0, 0)
                out = before_after[0] - before_after[1]
                if diff is not None and holder in diff.balances:
                    pre = before_after[0]  # the simulated (pending) state, not the last snapshot
            else:
                out = -flows.get(key, 0)  # type: ignore[arg-type]  # an ERC-20's key has an address
            if out == 0:
                continue
            held = pre if pre is not None else snapshot
            if self._store is not None and self.ledger.recorded(key, event.tx.sender, event.tx.nonce) != out:
                # Shared only when the window changes: the same transaction mined (or resent, or
                # redelivered) adds nothing the last writer of the window has not judged already.
                self._touched.add((*key, event.tx.sender))
            total, base = self.ledger.add(key, event.tx.sender, event.tx.nonce, block, out, held or 0)
            if out < 0:
                continue
            # Shares compared as exact fractions by cross-multiplying (a Fraction per holder and
            # transaction was a measurable part of screening).
            if total > out and base and total * ws.denominator > ws.numerator * base:
                window = Fraction(total, base)
                yield self.finding(
                    view,
                    event,
                    title=f"{asset.name} outflow from {view.protocol.contracts[holder].name} to "
                    f"{event.tx.sender}: {float(window):.0%} of holdings within the window",
                    contract=holder,
                    evidence={
                        "asset": asset.name,
                        "sender": event.tx.sender,
                        "outflow": str(out),
                        "window_outflow": str(total),
                        "window_base_holdings": str(base),
                        "share": float(window),
                        "window_blocks": p.window_blocks,
                        "window_s": p.window_s,
                    },
                )
                continue
            limit = p.max_outflow.get(asset.name)
            over_abs = limit is not None and out > limit * 10**asset.decimals
            over_share = bool(held) and out * self._share.denominator > self._share.numerator * held  # type: ignore[operator]
            if not (over_abs or over_share):
                continue
            share = Fraction(out, held) if held else None
            yield self.finding(
                view,
                event,
                title=f"{asset.name} outflow from {view.protocol.contracts[holder].name}"
                + (f": {float(share):.0%} of holdings" if share is not None else ""),
                contract=holder,
                evidence={
                    "asset": asset.name,
                    "outflow": str(out),
                    "holdings_before": str(held) if held is not None else None,
                    "share": float(share) if share is not None else None,
                },
            )

    def _keys_of(
        self, view: ChainView
    ) -> tuple[tuple[_HolderKey, ...], dict[tuple[Address | None, Address], int]]:
        """Every (asset, holder, holdings key) of the protocol in configuration order, and each
        holdings key's position in it."""
        if self._keys[0] is not view.protocol:
            keys = tuple((a, h, (a.address, h)) for a in view.protocol.assets for h in a.holders)
            index: dict[tuple[Address | None, Address], int] = {}
            for i, (_, _, key) in enumerate(keys):
                index.setdefault(key, i)
            self._keys = (view.protocol, keys, index)
        return self._keys[1], self._keys[2]

    def _share_price(
        self, view: ChainView, event: TxEvent, flows: dict[tuple[Address, Address], int], p: InvariantParams
    ) -> Iterable[Finding]:
        for vault, st in view.state.vaults.items():
            if st.total_supply == 0 or st.total_assets == 0:
                continue
            # totalAssets is the vault's balance of its asset; supply moves by mints/burns (Transfer
            # from/to zero), so both post values follow from the logs alone.
            inflow = flows.get((st.asset, vault), 0)
            minted = flows.get((vault, ZERO), 0)  # burns increase zero's balance, mints decrease it
            if inflow == 0 and minted == 0:
                continue  # neither assets nor supply moved: the price did not either
            assets_after = st.total_assets + inflow
            supply_after = st.total_supply + (-minted)
            if supply_after <= 0:
                continue
            # drop = 1 - after/before > bound, cross-multiplied (no Fraction unless it is a finding)
            bound = self._price_drop
            assets_after = max(assets_after, 0)
            if (
                assets_after * st.total_supply * bound.denominator
                >= (bound.denominator - bound.numerator) * supply_after * st.total_assets
            ):
                continue
            before = Fraction(st.total_assets, st.total_supply)
            after = Fraction(assets_after, supply_after)
            drop = 1 - after / before
            yield self.finding(
                view,
                event,
                title=f"share price of {view.protocol.contracts[vault].name} falls {float(drop):.1%}",
                contract=vault,
                evidence={"price_before": float(before), "price_after": float(after)},
            )

    def _oracle(self, view: ChainView, event: TxEvent, p: InvariantParams) -> Iterable[Finding]:
        if self._oracles[0] is not view.protocol:  # derived once per protocol, not per transaction
            self._oracles = (view.protocol, frozenset(c.address for c in view.protocol.by_kind("oracle")))
        oracles = self._oracles[1]
        if not oracles:
            return
        for step in event.calls():
            f = step.frame
            if f is None or step.reverted or step.context not in oracles or f.input[:4] != _SET_PRICE:
                continue
            if f.type == "STATICCALL" or step.context is None:
                continue
            asset, new = topic_address("0x" + f.input[4:36].hex()), word(f.input[4:], 1)
            old = view.state.oracle_prices.get((step.context, asset))
            if not old:
                continue
            move = abs(Fraction(new, old) - 1)
            if move > self._oracle_move:
                yield self.finding(
                    view,
                    event,
                    title=f"oracle price of {asset} moves {float(move):.0%} in one transaction",
                    contract=step.context,
                    vuln_class=VulnClass.ORACLE_MANIPULATION,
                    function=SET_PRICE,
                    evidence={"asset": asset, "price_before": str(old), "price_after": str(new)},
                )
