"""The relayer: sends Bulwark's own transactions (pauses, blocks, limit trips) and sees them mined.

The chain is untrusted and flaky, and a pause that does not land is worse than none, so:

* **Nonces** are kept locally (no RPC on the hot path) and resynchronised from the chain whenever
  they drift: at start, on "nonce too low", and when a sent transaction makes no progress because
  a nonce below it is missing (a nonce that ran ahead would otherwise jam the relayer for good).
* **Writes are never blindly retried.** Resending the *same signed bytes* is idempotent (same
  hash), so a lost answer is answered by rebroadcasting them; "already known"/"already imported",
  or "replacement underpriced" when the pool holds that very hash, count as success.
* **Replacement.** A transaction not mined within ``bump_after_s`` is replaced at the same nonce
  with fees raised by at least :data:`MIN_BUMP_PERCENT` (tip and max fee; what geth requires).
* **Confirmation tracking** follows every hash sent for a nonce; a node that forgot the
  transaction (restart, eviction) gets it again; a nonce taken by something else gets the
  request re-sent at a fresh nonce.
* **Balance.** :meth:`Relayer.check_balance` warns (structlog warning, and a value a metrics
  exporter can read) while the key can still pay for ``warn_below_txs`` emergency transactions.

Signing is local and synchronous (~1 ms with coincurve); :meth:`Relayer.sign` also serves to
pre-sign transactions at start-up so that nothing but the broadcast is left for the hot path.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field, replace
from typing import Literal

from bulwark import metrics
from bulwark.chain import convert
from bulwark.chain.client import ChainClient, TxRequest
from bulwark.chain.signer import Signer
from bulwark.domain.chain import Address, Receipt, TxHash
from bulwark.errors import ChainError, RpcUnreachable
from bulwark.logs import get_logger

log = get_logger(__name__)

GWEI = 10**9
MIN_BUMP_PERCENT = 10
"""geth refuses a replacement that does not raise both the tip and the max fee by 10%."""

_KNOWN = ("already known", "already imported", "known transaction", "alreadyknown")
_UNDERPRICED = ("replacement transaction underpriced", "replacement underpriced")
_NONCE_LOW = ("nonce too low", "nonce is too low", "oldnonce")
_NONCE_HIGH = ("nonce too high", "nonce gap")


class RelayerError(ChainError):
    """The relayer could not get a transaction into the chain."""


class NonceTooLow(RelayerError):
    """The nonce was already used on chain."""


class ReplacementUnderpriced(RelayerError):
    """Another transaction holds the nonce in the pool and bids at least as much."""


@dataclass(frozen=True, slots=True)
class Fees:
    """EIP-1559 bid: ``max_fee`` caps what is paid per gas, ``tip`` goes to the block builder."""

    max_fee: int
    tip: int

    def __post_init__(self) -> None:
        if self.tip < 0 or self.max_fee < self.tip:
            raise ValueError(f"bad fees: tip {self.tip} must be within 0..max_fee {self.max_fee}")

    def bumped(self, percent: int = 15) -> Fees:
        """At least ``percent`` more on both (and at least 1 wei), as a replacement needs."""
        pct = max(percent, MIN_BUMP_PERCENT)
        tip = max(self.tip + 1, -(-self.tip * (100 + pct) // 100))
        max_fee = max(self.max_fee + 1, -(-self.max_fee * (100 + pct) // 100), tip)
        return Fees(max_fee=max_fee, tip=tip)

    def covers(self, other: Fees) -> bool:
        return self.tip >= other.tip and self.max_fee >= other.max_fee


@dataclass(frozen=True, slots=True)
class RelayerPolicy:
    gas_limit: int = 300_000
    """Gas of a request that gives none (no estimation on the hot path; guardian calls fit)."""
    default_tip: int = 2 * GWEI
    bump_percent: int = 15
    bump_after_s: float = 6.0
    max_fee_cap: int = 10_000 * GWEI
    """Never bid above this (a runaway fee war must not drain the key)."""
    warn_below_txs: int = 20
    """Warn while the balance still pays for this many transactions at ``gas_limit`` x fees."""
    reference_fee: int = 100 * GWEI
    """Max fee per gas assumed when converting the balance into transactions left."""
    broadcast_attempts: int = 3

    def __post_init__(self) -> None:
        if self.bump_percent < MIN_BUMP_PERCENT:
            raise ValueError(f"bump_percent must be at least {MIN_BUMP_PERCENT} (replacement rule)")


@dataclass(frozen=True, slots=True)
class SignedTx:
    """A transaction signed for one nonce; broadcasting the same bytes again is idempotent."""

    request: TxRequest
    nonce: int
    fees: Fees
    raw: bytes = field(repr=False)
    tx_hash: TxHash
    label: str = ""


@dataclass(frozen=True, slots=True)
class Sent:
    signed: SignedTx
    outcome: Literal["accepted", "already-known"]
    broadcast_at: float
    """``time.perf_counter()`` when the node accepted it."""

    @property
    def tx_hash(self) -> TxHash:
        return self.signed.tx_hash


@dataclass(frozen=True, slots=True)
class Confirmed:
    """The receipt of whichever transaction sent for the request got mined."""

    receipt: Receipt
    nonce: int
    hashes: tuple[TxHash, ...]
    """Every hash sent for this request, in order (replacements, re-sends)."""
    rebroadcasts: int = 0
    resyncs: int = 0

    @property
    def tx_hash(self) -> TxHash:
        return self.receipt.tx_hash

    @property
    def replaced(self) -> bool:
        return len(self.hashes) > 1


@dataclass(frozen=True, slots=True)
class BalanceStatus:
    address: Address
    balance_wei: int
    warn_below_wei: int
    txs_left: int

    @property
    def low(self) -> bool:
        return self.balance_wei < self.warn_below_wei


def _message(exc: ChainError) -> str:
    return exc.user_message.lower()


class Relayer:
    """One key sending over one HTTP connection (never the mempool subscription's socket)."""

    def __init__(
        self,
        client: ChainClient,
        signer: Signer,
        policy: RelayerPolicy | None = None,
        *,
        network: str = "default",
    ) -> None:
        self.client = client
        self.network = network  # the label of this relayer's balance metric
        self.signer = signer
        self.policy = policy or RelayerPolicy()
        self._next_nonce: int | None = None
        self._chain_id: int | None = None
        self._lock = asyncio.Lock()
        self.base_fee: int = 0
        self.last_balance: BalanceStatus | None = None
        self.resyncs = 0

    def __repr__(self) -> str:
        return f"Relayer({self.signer.address} via {self.client.display_url})"

    @property
    def address(self) -> Address:
        return self.signer.address

    @property
    def next_nonce(self) -> int:
        if self._next_nonce is None:
            raise RelayerError("the relayer is not started: call `await relayer.start()` first")
        return self._next_nonce

    # -- set-up ----------------------------------------------------------------------------------

    async def start(self) -> BalanceStatus:
        """Chain id, nonce from the chain, current base fee and a balance check."""
        self._chain_id = await self.client.chain_id()
        await self.resync()
        await self.refresh_base_fee()
        return await self.check_balance()

    def use_client(self, client: ChainClient) -> None:
        """Talk to another node (failover, or the same node after a restart on a new URL)."""
        self.client = client

    async def refresh_base_fee(self) -> int:
        self.base_fee = (await self.client.get_block("latest")).base_fee or 0
        return self.base_fee

    async def resync(self) -> int:
        """Take the nonce from the chain: the pool's view (``pending``) if it is ahead of the mined
        one, else the mined one. A local nonce that ran ahead (a gap) is pulled back."""
        latest = await self.client.get_nonce(self.address, "latest")
        pending = await self.client.get_nonce(self.address, "pending")
        chain = max(latest, pending)
        if self._next_nonce is not None and self._next_nonce != chain:
            self.resyncs += 1
            log.warning(
                "relayer nonce resynchronised", address=self.address, local=self._next_nonce, chain=chain
            )
        self._next_nonce = chain
        return chain

    async def check_balance(self) -> BalanceStatus:
        """The key's balance, with a warning while it still pays for ``warn_below_txs`` txs."""
        balance = await self.client.get_balance(self.address, "latest")
        per_tx = self.policy.gas_limit * self.policy.reference_fee
        status = BalanceStatus(
            address=self.address,
            balance_wei=balance,
            warn_below_wei=per_tx * self.policy.warn_below_txs,
            txs_left=balance // per_tx if per_tx else 0,
        )
        self.last_balance = status
        metrics.set_relayer_balance(self.network, self.address, balance)
        if status.low:
            log.warning(
                "sentinel balance low: top it up before it runs dry",
                address=self.address,
                balance_wei=balance,
                txs_left=status.txs_left,
                warn_below_wei=status.warn_below_wei,
            )
        return status

    # -- fees ------------------------------------------------------------------------------------

    def default_fees(self, tip: int | None = None) -> Fees:
        """A bid from the cached base fee (no RPC): twice the base fee plus the tip."""
        t = self.policy.default_tip if tip is None else tip
        return self.capped(Fees(max_fee=2 * self.base_fee + t, tip=t))

    def capped(self, fees: Fees) -> Fees:
        cap = self.policy.max_fee_cap
        if fees.max_fee <= cap:
            return fees
        log.warning("fee bid capped", wanted=fees.max_fee, cap=cap)
        return Fees(max_fee=cap, tip=min(fees.tip, cap))

    # -- signing and broadcasting ------------------------------------------------------------------

    def sign(self, request: TxRequest, fees: Fees, nonce: int, *, label: str = "") -> SignedTx:
        """Sign ``request`` for ``nonce`` (pure CPU, no RPC): usable ahead of time."""
        if self._chain_id is None:
            raise RelayerError("the relayer is not started: call `await relayer.start()` first")
        gas = request.gas if request.gas is not None else self.policy.gas_limit
        fields: dict[str, object] = {
            "type": 2,
            "chainId": self._chain_id,
            "nonce": nonce,
            "gas": gas,
            "maxFeePerGas": fees.max_fee,
            "maxPriorityFeePerGas": fees.tip,
            "value": request.value,
            "data": request.data,
        }
        if request.to is not None:
            fields["to"] = request.to
        raw = self.signer.sign_transaction(fields)
        from eth_utils.crypto import keccak

        tx_hash = TxHash("0x" + keccak(raw).hex())
        req = replace(
            request, gas=gas, nonce=nonce, max_fee_per_gas=fees.max_fee, max_priority_fee_per_gas=fees.tip
        )
        return SignedTx(request=req, nonce=nonce, fees=fees, raw=raw, tx_hash=tx_hash, label=label)

    async def broadcast(self, signed: SignedTx) -> Sent:
        """Hand the signed bytes to the node. Idempotent: the same bytes may go again after a
        lost answer; "already known" for them is success."""
        attempts = max(1, self.policy.broadcast_attempts)
        for attempt in range(attempts):
            try:
                got = await self.client.request("eth_sendRawTransaction", ["0x" + signed.raw.hex()])
                if got is not None and convert.to_tx_hash(got) != signed.tx_hash:
                    log.warning("node returned another hash", sent=signed.tx_hash, got=got)
                return Sent(signed, "accepted", time.perf_counter())
            except RpcUnreachable:
                # The request may or may not have reached the node; the same bytes are safe to resend.
                if attempt + 1 >= attempts:
                    raise
                await asyncio.sleep(0.05 * (attempt + 1))
            except ChainError as exc:
                msg = _message(exc)
                if any(k in msg for k in _KNOWN):
                    return Sent(signed, "already-known", time.perf_counter())
                if any(k in msg for k in _UNDERPRICED):
                    if await self._pool_holds(signed.tx_hash):
                        return Sent(signed, "already-known", time.perf_counter())
                    raise ReplacementUnderpriced(
                        f"nonce {signed.nonce} of {self.address} is held by a better-paying transaction",
                        detail=exc.user_message,
                    ) from None
                if any(k in msg for k in _NONCE_LOW):
                    raise NonceTooLow(
                        f"nonce {signed.nonce} of {self.address} is already used", detail=exc.user_message
                    ) from None
                raise
        raise AssertionError("unreachable")  # pragma: no cover

    async def _pool_holds(self, tx_hash: TxHash) -> bool:
        try:
            return await self.client.get_transaction(tx_hash) is not None
        except ChainError:
            return False

    async def send(self, request: TxRequest, fees: Fees | None = None, *, label: str = "") -> Sent:
        """Sign ``request`` at the next nonce and broadcast it (the nonce advances on success).

        A nonce already used on chain triggers a resync and one more try; a nonce held in the
        pool by another transaction of ours (left over from a drift) is outbid by bumping."""
        bid = self.capped(fees or self.default_fees())
        async with self._lock:
            nonce = self.next_nonce
            for _ in range(4):
                signed = self.sign(request, bid, nonce, label=label)
                try:
                    sent = await self.broadcast(signed)
                except NonceTooLow:
                    nonce = await self.resync()
                    continue
                except ReplacementUnderpriced:
                    holder = await self._pool_fees(nonce)
                    if holder is not None:
                        bid = Fees(max(bid.max_fee, holder.max_fee), max(bid.tip, holder.tip))
                    bid = self.capped(bid.bumped(self.policy.bump_percent))
                    continue
                self._next_nonce = nonce + 1
                return sent
        raise RelayerError(f"could not send {label or 'the transaction'} from {self.address} after 4 tries")

    async def send_signed(self, signed: SignedTx) -> Sent:
        """Broadcast a pre-signed transaction if its nonce is still the next one; otherwise sign
        the same request again at the right nonce (same fees). Either way the nonce advances."""
        async with self._lock:
            if signed.nonce == self._next_nonce:
                try:
                    sent = await self.broadcast(signed)
                except (NonceTooLow, ReplacementUnderpriced):
                    pass
                else:
                    self._next_nonce = signed.nonce + 1
                    return sent
        await self.resync_if_behind()
        return await self.send(replace(signed.request, nonce=None), signed.fees, label=signed.label)

    async def resync_if_behind(self) -> None:
        latest = await self.client.get_nonce(self.address, "latest")
        if self._next_nonce is None or self._next_nonce < latest:
            await self.resync()

    async def _pool_fees(self, nonce: int) -> Fees | None:
        """Fees of whatever transaction of ours holds ``nonce`` in the pool."""
        try:
            for tx in await self.client.pending_transactions(include_queued=True):
                if tx.sender.lower() == self.address.lower() and tx.nonce == nonce:
                    tip = tx.priority_fee
                    return Fees(max_fee=max(tx.max_fee_per_gas or tx.gas_price or tip, tip), tip=tip)
        except ChainError:
            return None
        return None

    # -- confirmation ------------------------------------------------------------------------------

    async def bump(self, signed: SignedTx, percent: int | None = None) -> Sent:
        """Re-sign the same request at the same nonce with fees bumped (>= +10% on both)."""
        bid = self.capped(signed.fees.bumped(percent or self.policy.bump_percent))
        if bid == signed.fees:
            raise RelayerError(f"cannot bump {signed.tx_hash}: its fees are at the cap already")
        return await self.broadcast(self.sign(signed.request, bid, signed.nonce, label=signed.label))

    async def wait(
        self,
        sent: Sent,
        *,
        timeout_s: float = 60.0,
        poll_s: float = 0.1,
        bump_after_s: float | None = None,
    ) -> Confirmed:
        """Follow ``sent`` until one of its transactions is mined.

        * not mined after ``bump_after_s``: replaced with bumped fees (same nonce);
        * unknown to the node and not mined (restart, eviction): the last bytes are sent again;
        * not executable because a lower nonce is missing (the local nonce ran ahead): resync and
          re-send the request at the chain's nonce;
        * its nonce used by some other transaction: the request is re-sent at a fresh nonce.
        """
        bump_after = self.policy.bump_after_s if bump_after_s is None else bump_after_s
        current = sent.signed
        hashes: list[TxHash] = [current.tx_hash]
        last_sent = time.monotonic()
        deadline = last_sent + timeout_s
        rebroadcasts = resyncs = 0
        while True:
            for h in reversed(hashes):
                try:
                    receipt = await self.client.get_receipt(h)
                except RpcUnreachable:
                    receipt = None
                if receipt is not None:
                    return Confirmed(receipt, current.nonce, tuple(hashes), rebroadcasts, resyncs)
            if time.monotonic() > deadline:
                raise RelayerError(
                    f"{current.label or 'transaction'} {current.tx_hash} not mined within {timeout_s:g} s "
                    f"(nonce {current.nonce}, {len(hashes)} version(s) sent)"
                )
            try:
                latest = await self.client.get_nonce(self.address, "latest")
                pending = await self.client.get_nonce(self.address, "pending")
                known = await self._pool_holds(current.tx_hash)
            except RpcUnreachable:
                await asyncio.sleep(poll_s)
                continue
            if latest > current.nonce:
                # The nonce is used, yet none of our hashes has a receipt (checked above; one more
                # look closes the race with a block mined in between).
                if any([await self.client.get_receipt(h) for h in hashes]):
                    continue
                log.warning("relayer nonce taken by another transaction; re-sending", nonce=current.nonce)
                await self.resync()
                resyncs += 1
                again = await self.send(
                    replace(current.request, nonce=None), current.fees, label=current.label
                )
                current = again.signed
                hashes.append(current.tx_hash)
                last_sent = time.monotonic()
            elif pending <= current.nonce and known:
                # In the pool but not executable: a nonce below it is missing (we ran ahead).
                log.warning(
                    "relayer nonce gap; re-sending at the chain's nonce", nonce=current.nonce, chain=pending
                )
                async with self._lock:
                    self._next_nonce = max(latest, pending)
                    self.resyncs += 1
                resyncs += 1
                again = await self.send(
                    replace(current.request, nonce=None), current.fees, label=current.label
                )
                current = again.signed
                hashes.append(current.tx_hash)
                last_sent = time.monotonic()
            elif not known:
                # The node forgot it (restart without its pool, eviction): same bytes again.
                log.warning("relayer transaction unknown to the node; rebroadcasting", tx=current.tx_hash)
                try:
                    await self.broadcast(current)
                except NonceTooLow:
                    continue  # mined meanwhile, or taken: the next round tells which
                except ReplacementUnderpriced:
                    # Another transaction (same key, someone else) holds the nonce in the pool:
                    # our request goes again after it.
                    log.warning("relayer nonce held by another transaction; re-sending", nonce=current.nonce)
                    await self.resync()
                    resyncs += 1
                    again = await self.send(
                        replace(current.request, nonce=None), current.fees, label=current.label
                    )
                    current = again.signed
                    hashes.append(current.tx_hash)
                    last_sent = time.monotonic()
                    continue
                rebroadcasts += 1
                last_sent = time.monotonic()
            elif time.monotonic() - last_sent > bump_after:
                try:
                    again = await self.bump(current)
                except RelayerError as exc:
                    log.warning("cannot replace", tx=current.tx_hash, error=exc.user_message)
                    last_sent = time.monotonic()
                else:
                    current = again.signed
                    hashes.append(current.tx_hash)
                    last_sent = time.monotonic()
                    log.info("relayer replaced a stuck transaction", tx=current.tx_hash, tip=current.fees.tip)
            await asyncio.sleep(poll_s)

    async def transact(
        self, request: TxRequest, fees: Fees | None = None, *, label: str = "", timeout_s: float = 60.0
    ) -> Confirmed:
        """Send and follow to the receipt (the receipt's status tells whether it reverted)."""
        return await self.wait(await self.send(request, fees, label=label), timeout_s=timeout_s)
