"""The screening engine: simulate each pending transaction against the pending state and run the
detectors on what it would do to the protected contracts.

Engine choice (measured on the 2-core box, anvil 1.7): one ``debug_traceCall`` per HTTP request
tops out near 600 tx/s; the same traces sent as JSON-RPC batches (:class:`BatchRpc`) reach several
thousand per second for simple transactions, which keeps the node as the single source of truth
(no second EVM whose state could drift from it). An in-process pyrevm tier (0.3.7, forked from
anvil, snapshot/revert per transaction) was measured on the same benign mix: ~1,000 tx/s cold and
~4,600 tx/s warm, logs only: it exposes no call frames (reentrancy, privileged calls, unchecked
returns, flash-loan order, creations and signatures all need them), so it cannot clear the
protocol's own traffic without a trace, and it would spend this process's CPU, which is what
screening is short of (~0.12 ms of Python per transaction on an idle machine, December 2026;
the node traces ~6,000/s in batches).
Two tiers keep the cost down:

1. a pre-filter with no RPC: plain value transfers to known externally-owned accounts and
   ``transfer``/``approve`` on the protocol's own plain tokens whose counterparty is not protected
   cannot change protected state (donations *to* protected contracts are simulated: they move
   share prices). Everything else, deployments and calls to unknown contracts included, is
   simulated: an attack reaches the protocol through the attacker's contract, so ``to`` says nothing.
2. ``callTracer`` (with logs) for every remaining transaction; ``prestateTracer`` (diff mode) only
   when the trace shows a privileged selector reaching a protected contract or native assets are
   protected, since only those judgements need storage writes.

State: each transaction is simulated on ``latest``. anvil's ``pending`` state already contains the
transaction being screened (simulating it there runs it twice); when the sender has earlier
transactions still pending (fund a contract, then use it), the chain of them is simulated together
with ``eth_simulateV1`` on ``latest``, which yields the last one's logs (no call tree).
"""

from __future__ import annotations

import asyncio
import enum
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from bulwark.chain.mempool import BatchRpc, RpcCallError, tx_request
from bulwark.chain.rpc import Shaped
from bulwark.detect.base import Detector, SharedState, SimulationFailed
from bulwark.detect.builtins.privileged import privileged_signature
from bulwark.detect.evm import checksum, selector
from bulwark.detect.hygiene import AlertGate
from bulwark.detect.model import ChainView, ContractInfo, Probe, Step, TxEvent
from bulwark.detect.pending import simulate_after
from bulwark.detect.setup import Monitor
from bulwark.detect.snapshot import read_state
from bulwark.detect.trace import RawFrame, TraceFrame, parse_call_trace, parse_prestate, parse_state_diff
from bulwark.domain import Address, CallFrame, Finding, Hash32, Log, Selector, StateDiff, Transaction
from bulwark.errors import ChainError
from bulwark.logs import get_logger

log = get_logger(__name__)

_TRANSFER = selector("transfer(address,uint256)")
_APPROVE = selector("approve(address,uint256)")
_CALL_TRACER = {"tracer": "callTracer", "tracerConfig": {"withLog": True}}
# The batching transport decodes a call trace straight into TraceFrame structs (cheaper to build
# and to walk than dicts); other transports answer dicts, which parse_call_trace converts.
_CALL_TRACE = Shaped(TraceFrame, _CALL_TRACER)
_DIFF_TRACER = {"tracer": "prestateTracer", "tracerConfig": {"diffMode": True}}
_READ_TRACER = {"tracer": "prestateTracer"}
# Screens in flight share one head question answered within this window: one eth_blockNumber per
# transaction halved screening throughput; a block is never this fast, so no newer head is missed.
_HEAD_SHARED_S = 0.05


@dataclass(slots=True)
class ScreenStats:
    screened: int = 0
    simulated: int = 0
    skipped: int = 0
    diffs: int = 0
    failures: int = 0
    findings: int = 0
    suppressed: int = 0
    sim_seconds: float = 0.0


@dataclass(slots=True)
class _Slot:
    monitor: Monitor
    view: ChainView
    gate: AlertGate
    # The detectors that can judge a transaction the pre-filter passed without simulating it.
    bare: tuple[Detector, ...] = ()

    # (contract, selector) -> what a call to that entry point can change: the configuration is
    # fixed, so each is classified once (it was re-derived for every call of every transaction).
    entries: dict[tuple[Address, bytes], _Entry] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.bare = tuple(d for d in self.monitor.detectors if getattr(d, "JUDGES_BARE_TX", True))

    def entry_kind(self, info: ContractInfo, frame: CallFrame) -> _Entry:
        key = (info.address, frame.input[:4])
        why = self.entries.get(key)
        if why is None:
            sel = Selector("0x" + key[1].hex())
            if sel in info.writers or privileged_signature(info, sel) is not None:
                why = _Entry.PRIVILEGED
            elif (info.balance_maps if info.has_layout else info.kind == "token") and info.kind != "lending":
                why = _Entry.BALANCES
            else:
                why = _Entry.OTHER
            if len(self.entries) >= 65_536:  # a flood of made-up selectors: start over
                self.entries.clear()
            self.entries[key] = why
        return why


class _Entry(enum.Enum):
    """What a call into a protected contract's entry point can change, for the diff decision."""

    PRIVILEGED = "writes privileged state"  # known, configured, or found writing it in the sources
    BALANCES = "may move balances held in storage"
    OTHER = "neither"


@dataclass(slots=True)
class Screener:
    rpc: BatchRpc
    monitors: Sequence[Monitor]
    block_tag: str = "latest"
    stats: ScreenStats = field(default_factory=ScreenStats)
    _pending: dict[Address, dict[int, Transaction]] = field(default_factory=dict)
    _slots: list[_Slot] = field(default_factory=list)
    _eoa: dict[Address, bool] = field(default_factory=dict)
    _refreshing: asyncio.Future[None] | None = None
    _head: asyncio.Future[Any] | None = None
    _head_asked: float = 0.0
    # Facts of the configuration, derived once (they were recomputed for every transaction).
    _probed: tuple[tuple[Address, Probe], ...] = field(default=(), init=False)
    _token_holdings: frozenset[tuple[Address, Address]] = field(default=frozenset(), init=False)
    _native_holders: frozenset[Address] = field(default=frozenset(), init=False)
    _native: bool = field(default=False, init=False)  # native coin protected: diffs always needed
    # Detectors keeping state in a store shared with other screen workers (share()); none by default.
    _sharing: tuple[tuple[_Slot, Detector], ...] = field(default=(), init=False)

    def __post_init__(self) -> None:
        self._slots = [_Slot(m, ChainView(m.protocol), AlertGate(m.cooldown_s)) for m in self.monitors]
        protos = [m.protocol for m in self.monitors]
        self._probed = tuple(
            (c.address, p) for proto in protos for c in proto.contracts.values() for p in c.probes
        )
        assets = [a for proto in protos for a in proto.assets]
        self._token_holdings = frozenset(
            (a.address, h) for a in assets if a.address is not None for h in a.holders
        )
        self._native_holders = frozenset(h for a in assets if a.address is None for h in a.holders)
        self._native = any(a.address is None for a in assets)

    def share(self, store: SharedState, scope: str) -> int:
        """Keep the detectors' cross-transaction state (a sender's window of outflows) in ``store``,
        shared with the other screen workers of ``scope`` (the network); how many detectors do."""
        self._sharing = tuple(
            (slot, det)
            for slot in self._slots
            for det in slot.monitor.detectors
            if det.share(store, f"{scope}/{slot.monitor.name}")
        )
        return len(self._sharing)

    @property
    def views(self) -> tuple[ChainView, ...]:
        return tuple(s.view for s in self._slots)

    # -- protocol state, refreshed per head ------------------------------------------------------

    async def refresh(self, block_number: int = 0) -> None:
        """Re-read holdings, vault share prices, pool reserves and oracle prices at ``latest``."""
        states = await asyncio.gather(
            *(read_state(self.rpc, s.monitor.protocol, block_number) for s in self._slots)
        )
        for slot, state in zip(self._slots, states, strict=True):
            slot.view = ChainView(slot.monitor.protocol, state)

    # -- screening -------------------------------------------------------------------------------

    async def screen(self, tx: Transaction) -> list[Finding]:
        """Findings (after alert hygiene) for one pending transaction."""
        self.stats.screened += 1
        slots = [s for s in self._slots if s.monitor.mempool]
        if not slots:
            return []
        if await self._harmless(tx):
            self.stats.skipped += 1
            event = TxEvent(tx, pending=True)
        else:
            # The head, asked in the same batch as the trace: a transaction simulated on a newer
            # block than the snapshot is judged against that block's holdings, not the older ones.
            head = self._shared_head()
            event = await self.simulate(tx)
            # Only outflow judgements read holdings, so only a transaction that moves value waits
            # for the head: the shared question may ride in another screen's batch of tens of
            # traces, and waiting for it held every other pending transaction's finding back.
            if self._takes_value(event):
                if not head.done():
                    await asyncio.wait((head,))  # not gather: a cancelled screen leaves it to others
                await self._catch_up(head)
        return await self._judged(event, slots)

    def _shared_head(self) -> asyncio.Future[Any]:
        """The head number, asked once for all screens that start within ``_HEAD_SHARED_S``."""
        now = time.monotonic()
        if self._head is None or now - self._head_asked > _HEAD_SHARED_S:
            self._head = asyncio.ensure_future(self.rpc.request("eth_blockNumber", []))
            self._head.add_done_callback(_retrieved)  # a failed read only skips the catch-up
            self._head_asked = now
        return self._head

    def _takes_value(self, event: TxEvent) -> bool:
        holdings = self._token_holdings
        if any(v < 0 and k in holdings for k, v in event.flows().items()):
            return True
        diff = event.diff
        return diff is not None and any(h in diff.balances for h in self._native_holders)

    async def _catch_up(self, head: asyncio.Future[Any]) -> None:
        if head.cancelled() or head.exception() is not None or not isinstance(head.result(), str):
            return
        number = int(head.result(), 16)
        if all(slot.view.state.block_number >= number for slot in self._slots):
            return
        if self._refreshing is None or self._refreshing.done():
            self._refreshing = asyncio.ensure_future(self.refresh(number))
        try:
            await asyncio.shield(self._refreshing)
        except ChainError as exc:  # the previous snapshot stays; the next head retries
            log.warning("state refresh failed; keeping the previous snapshot", error=exc.user_message)

    async def judge_mined(self, tx: Transaction, block_number: int, block_hash: Hash32) -> list[Finding]:
        """Findings for a mined transaction (``debug_traceTransaction``)."""
        try:
            raw = await self.rpc.request("debug_traceTransaction", [tx.hash, _CALL_TRACE])
        except RpcCallError as exc:
            self.stats.failures += 1
            raise SimulationFailed(f"cannot trace mined transaction {tx.hash}: {exc.user_message}") from exc
        root, steps = parse_call_trace(raw, tx.hash, block_number, block_hash)
        event = TxEvent(tx, False, root, None, steps, block_number, block_hash)
        if self._needs_diff(event):
            diff = parse_state_diff(await self.rpc.request("debug_traceTransaction", [tx.hash, _DIFF_TRACER]))
            reads = None
            if self._lowers_protected(diff):
                reads = parse_prestate(
                    await self.rpc.request("debug_traceTransaction", [tx.hash, _READ_TRACER])
                )
            event = TxEvent(tx, False, root, diff, steps, block_number, block_hash, reads=reads)
        return await self._judged(event, self._slots)

    def judge_logs(
        self, tx: Transaction, logs: Sequence[Log], block_number: int, block_hash: Hash32
    ) -> list[Finding]:
        """Findings for a mined transaction known only by the protected contracts' logs it emitted
        (an endpoint without ``debug_traceTransaction``): the log-based judgements still apply."""
        steps = tuple(Step("log", 0, lg.address, log=lg) for lg in logs)
        event = TxEvent(tx, False, None, None, steps, block_number, block_hash)
        return self._judge(event, self._slots)

    def announce(self, finding: Finding) -> bool:
        """Should ``finding`` be notified, or is it grouped (cooldown) with one notified before?"""
        return all(
            slot.gate.admit(finding) for slot in self._slots if slot.monitor.protocol.name == finding.protocol
        )

    def withdraw(self, finding: Finding) -> None:
        for slot in self._slots:
            if slot.monitor.protocol.name == finding.protocol:
                slot.gate.forget(finding)

    def note_pending(self, tx: Transaction) -> None:
        """Remember a pending transaction so later ones from the same sender run after it."""
        by_nonce = self._pending.setdefault(tx.sender, {})
        by_nonce[tx.nonce] = tx
        if len(by_nonce) > 64:  # a sender flooding the pool: keep the newest
            for nonce in sorted(by_nonce)[:-64]:
                del by_nonce[nonce]

    def _maybe_earlier(self, tx: Transaction) -> bool:
        return any(n < tx.nonce for n in self._pending.get(tx.sender, ()))

    def _still_pending(self, tx: Transaction, mined: int) -> list[Transaction]:
        """The sender's noted transactions below ``tx``'s nonce that ``latest`` has not mined."""
        by_nonce = self._pending.get(tx.sender, {})
        for nonce in [n for n in by_nonce if n < mined]:
            del by_nonce[nonce]
        return [by_nonce[n] for n in sorted(by_nonce) if n < tx.nonce]

    async def _simulate_chain(self, earlier: list[Transaction], tx: Transaction) -> TxEvent:
        try:
            return await simulate_after(self.rpc, earlier, tx, self._next_block())
        except SimulationFailed:
            self.stats.failures += 1
            raise

    def _next_block(self) -> dict[str, str]:
        """A pending transaction runs in the next block, not in ``latest`` again: a contract that
        allows one action per block (or per second) would otherwise look like it reverts."""
        head = max((s.view.state.block_number for s in self._slots), default=0)
        stamp = max((s.view.state.timestamp for s in self._slots), default=0)
        out = {"number": hex(head + 1)} if head else {}
        if stamp:
            out["time"] = hex(stamp + 1)
        return out

    async def _trace(self, call: dict[str, Any], tx: Transaction) -> TraceFrame | RawFrame:
        try:
            raw: TraceFrame | RawFrame = await self.rpc.request(
                "debug_traceCall",
                [
                    call,
                    self.block_tag,
                    Shaped(TraceFrame, {**_CALL_TRACER, "blockOverrides": self._next_block()}),
                ],
            )
        except RpcCallError as exc:
            raise SimulationFailed(
                f"cannot simulate pending transaction {tx.hash}: {exc.user_message}"
            ) from exc
        return raw

    async def simulate(self, tx: Transaction) -> TxEvent:
        started = time.perf_counter()
        call = tx_request(tx)
        traced: TraceFrame | RawFrame | BaseException
        if self._maybe_earlier(tx):
            # Does the sender still have earlier transactions pending? Ask while tracing the
            # transaction alone (the usual answer is no: they were mined), saving a round trip.
            results: tuple[Any, TraceFrame | RawFrame | BaseException] = await asyncio.gather(
                self.rpc.request("eth_getTransactionCount", [tx.sender, "latest"]),
                self._trace(call, tx),
                return_exceptions=True,
            )
            mined, traced = results
            if isinstance(mined, BaseException):
                self.stats.failures += 1
                raise SimulationFailed(f"cannot read the nonce of {tx.sender}: {mined}") from mined
            earlier = self._still_pending(tx, int(mined, 16))
            if earlier:
                event = await self._simulate_chain(earlier, tx)
                self.stats.simulated += 1
                self.stats.sim_seconds += time.perf_counter() - started
                return event
        else:
            try:
                traced = await self._trace(call, tx)
            except SimulationFailed:
                self.stats.failures += 1
                raise
        if isinstance(traced, BaseException):
            self.stats.failures += 1
            raise traced
        root, steps = parse_call_trace(traced, tx.hash)
        event = TxEvent(tx, True, root, None, steps)
        probes = self._probes_touched(event)
        if probes:
            event = replace(event, probes_after=await self._probes_after(tx, probes))
        if self._needs_diff(event):
            self.stats.diffs += 1
            block = self._next_block()
            diff = parse_state_diff(
                await self.rpc.request(
                    "debug_traceCall", [call, self.block_tag, {**_DIFF_TRACER, "blockOverrides": block}]
                )
            )
            reads = None
            if self._lowers_protected(diff):
                raw = await self.rpc.request(
                    "debug_traceCall", [call, self.block_tag, {**_READ_TRACER, "blockOverrides": block}]
                )
                reads = parse_prestate(raw)
            event = replace(event, diff=diff, reads=reads)
        self.stats.simulated += 1
        self.stats.sim_seconds += time.perf_counter() - started
        return event

    def _probes_touched(self, event: TxEvent) -> list[tuple[Address, Probe]]:
        """The configured probes of contracts the transaction ran in or moved tokens of: only
        those can have moved, and only those cost a second simulation."""
        probed = self._probed
        if not probed or not event.success:
            return []
        touched: set[Address] = set()
        for step in event.calls():
            f = step.frame
            if not step.reverted and f is not None and f.type != "STATICCALL" and step.context is not None:
                touched.add(step.context)
        for _, _, src, dst, _ in event.transfers():
            touched.update((src, dst))
        return [(a, p) for a, p in probed if a in touched]

    async def _probes_after(
        self, tx: Transaction, probes: list[tuple[Address, Probe]]
    ) -> dict[tuple[Address, str], int]:
        """Each probe read right after ``tx`` in one simulated block (``eth_simulateV1``); a probe
        that does not answer is left out (its detector then stays silent, it does not guess)."""
        calls = [{**tx_request(tx), "nonce": hex(tx.nonce)}]
        calls += [{"to": a, "data": "0x" + p.data.hex()} for a, p in probes]
        block: dict[str, Any] = {"calls": calls}
        overrides = self._next_block()
        if overrides:
            block["blockOverrides"] = overrides
        params = [{"blockStateCalls": [block], "validation": False}, "latest"]
        try:
            results = (await self.rpc.request("eth_simulateV1", params))[0]["calls"][1:]
        except (RpcCallError, KeyError, IndexError, TypeError) as exc:
            log.warning("probes not read after the transaction", tx=tx.hash, error=str(exc))
            return {}
        out: dict[tuple[Address, str], int] = {}
        for (a, p), res in zip(probes, results, strict=False):
            raw = res.get("returnData") if isinstance(res, dict) else None
            if res.get("status") in ("0x1", 1, True) and isinstance(raw, str) and len(raw) >= 66:
                out[(a, p.call)] = int(raw[2:66], 16)
        return out

    async def _judged(self, event: TxEvent, slots: Sequence[_Slot]) -> list[Finding]:
        found = self._judge(event, slots)
        if not self._sharing:
            return found
        try:
            return found + await self._settle(event, slots)
        except ChainError:
            # Handed back to the broker: its redelivery must deliver these again, not hold them
            # back as repeats of a delivery that never left this worker.
            for f in found:
                self.withdraw(f)
            raise

    async def _settle(self, event: TxEvent, slots: Sequence[_Slot]) -> list[Finding]:
        """Merge what judging ``event`` wrote into the shared store; a detector whose state other
        workers had added to judges the event again (the last to write sees every worker's part:
        a slow drain split across workers is judged whole). A store that cannot be reached raises
        (ChainError): the transaction goes back to the broker rather than judged on a part."""
        out: list[Finding] = []
        bare = event.trace is None and event.diff is None and not event.steps
        for slot, det in self._sharing:
            judged = any(slot is s for s in slots) and (not bare or det in slot.bare)
            if judged and await det.settle():
                out.extend(self._judge(event, (slot,), only=det))
        return out

    def _judge(self, event: TxEvent, slots: Iterable[_Slot], only: Detector | None = None) -> list[Finding]:
        out: list[Finding] = []
        bare = event.trace is None and event.diff is None and not event.steps
        for slot in slots:
            for det in (only,) if only is not None else slot.bare if bare else slot.monitor.detectors:
                try:
                    findings = list(det(slot.view, event))
                except Exception as exc:  # one broken detector must not blind the others
                    log.error(
                        "detector failed", detector=type(det).__name__, tx=event.tx.hash, error=repr(exc)
                    )
                    continue
                for f in findings:
                    # Every finding goes on to containment; the cooldown only groups announcements.
                    if slot.gate.deliver(f):
                        out.append(f)
                    else:
                        self.stats.suppressed += 1
        self.stats.findings += len(out)
        return out

    def _lowers_protected(self, diff: StateDiff) -> bool:
        """Does the diff lower a stored value of a protected contract (a balance, perhaps)? Then
        the slots the transaction read are fetched too: a delegation in storage (an operator
        named under the owner's key) is how a contract says who may spend for whom."""
        for slot in self._slots:
            for contract, changes in diff.storage.items():
                if slot.monitor.protocol.is_protected(contract) and any(
                    int(c.before or "0x0", 16) > int(c.after or "0x0", 16) for c in changes
                ):
                    return True
        return False

    def _needs_diff(self, event: TxEvent) -> bool:
        """Storage writes are asked for only when the call tree says they can matter: a privileged
        selector (known, configured, or found writing privileged state in the sources), a
        delegatecall from a protected contract into code other than its implementation, or a
        protected contract with balances in storage that changed them without a Transfer log."""
        if self._native:
            return True
        emitted: set[Address] | None = None
        transfers: set[Address] = set()  # contracts that emitted a Transfer log
        for slot in self._slots:
            proto = slot.monitor.protocol
            impls = slot.view.state.implementations
            for step in event.calls():
                f = step.frame
                if f is None or step.reverted or f.to is None:
                    continue
                if (
                    f.type in ("DELEGATECALL", "CALLCODE")
                    and step.context is not None
                    and proto.is_protected(step.context)
                    and f.to != impls.get(step.context)
                    and not proto.is_protected(f.to)
                ):
                    return True
                if f.type == "STATICCALL":
                    continue
                info = proto.contracts.get(step.context) if step.context is not None else None
                if info is None or len(f.input) < 4:
                    continue
                why = slot.entry_kind(info, f)
                if why is _Entry.PRIVILEGED:
                    return True
                if why is _Entry.BALANCES:
                    if emitted is None:
                        emitted = {lg.address for lg in event.logs}
                        transfers = {t[1] for t in event.transfers()}
                    if info.address not in emitted:
                        return True
                    # Its own events (not Transfer) say nothing of whose balance moved: a call that
                    # names an account besides its caller may have debited that account.
                    if info.address not in transfers and _names_third_party(f, event.tx.sender):
                        return True
        return False

    async def _harmless(self, tx: Transaction) -> bool:
        if tx.to is None:
            return False
        protos = [s.monitor.protocol for s in self._slots]
        if any(p.is_protected(tx.to) and p.contracts[tx.to].kind != "token" for p in protos):
            return False
        if not tx.data:
            return not any(p.is_protected(tx.to) for p in protos) and await self._is_eoa(tx.to)
        if tx.selector in (_TRANSFER, _APPROVE) and len(tx.data) == 68:
            if not all(p.is_protected(tx.to) for p in protos):
                return False
            counterparty = checksum("0x" + tx.data[16:36].hex())
            # approve grants nothing by itself; transfer moves only the sender's own tokens.
            return tx.selector == _APPROVE or not any(p.is_protected(counterparty) for p in protos)
        return False

    async def _is_eoa(self, address: Address) -> bool:
        cached = self._eoa.get(address)
        if cached is None:
            try:
                code = await self.rpc.request("eth_getCode", [address, "latest"])
            except ChainError:
                return False
            cached = self._eoa[address] = code in ("0x", "", None)
        return cached


def _retrieved(fut: asyncio.Future[Any]) -> None:
    if not fut.cancelled():
        fut.exception()  # marked retrieved: no "exception was never retrieved" at shutdown


def _names_third_party(frame: CallFrame, sender: Address) -> bool:
    """Does the call's calldata hold an address-shaped word other than its caller's or the sender's?"""
    data = frame.input
    mine = {int(frame.sender, 16), int(sender, 16)}
    for i in range(4, len(data) - 31, 32):
        if (
            data[i : i + 12] == _ZERO12
            and data[i + 12 : i + 16] != _ZERO4
            and int.from_bytes(data[i + 12 : i + 32], "big") not in mine
        ):
            return True
    return False


_ZERO12, _ZERO4 = bytes(12), bytes(4)


__all__ = ["ScreenStats", "Screener", "SimulationFailed"]
