"""Raw JSON-RPC values -> domain objects.

Accepts the node's hex strings and, for subscription messages that web3.py has already
formatted, ints and bytes (``HexBytes``) too, so one converter serves HTTP and WebSocket.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import lru_cache
from typing import Any

from eth_utils.address import to_checksum_address

from bulwark.chain.rpc import RawBlock, RawCallFrame, RawLog, RawPrestateDiff, RawReceipt, RawTransaction
from bulwark.domain.chain import (
    Address,
    Block,
    CallFrame,
    Hash32,
    Log,
    Receipt,
    StateDiff,
    StorageChange,
    Transaction,
    TxHash,
)

_ZERO = "0x" + "00" * 32


def to_int(value: Any) -> int:
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int):
        return value
    if isinstance(value, bytes | bytearray):
        return int.from_bytes(value, "big")
    if isinstance(value, str):
        return int(value, 16) if value[:2] in ("0x", "0X") else int(value)
    raise ValueError(f"not an integer: {value!r}")


def to_opt_int(value: Any) -> int | None:
    return None if value is None else to_int(value)


def to_bytes(value: Any) -> bytes:
    if value is None:
        return b""
    if isinstance(value, bytes | bytearray):
        return bytes(value)
    if isinstance(value, str):
        text = value[2:] if value[:2] in ("0x", "0X") else value
        return bytes.fromhex(text if len(text) % 2 == 0 else "0" + text)
    raise ValueError(f"not hex data: {value!r}")


def to_hex32(value: Any) -> str:
    """Lower-case 0x hex of a 32-byte value (hashes, topics, storage words)."""
    return "0x" + to_bytes(value).rjust(32, b"\0").hex()


def to_hash(value: Any) -> Hash32:
    return Hash32(to_hex32(value))


def to_tx_hash(value: Any) -> TxHash:
    return TxHash(to_hex32(value))


def to_address(value: Any) -> Address:
    if isinstance(value, bytes | bytearray):
        value = "0x" + bytes(value).hex()
    if not isinstance(value, str):
        raise ValueError(f"not an address: {value!r}")
    return _checksummed(value)


@lru_cache(maxsize=1 << 16)
def _checksummed(value: str) -> Address:
    """Remembered: a network's traffic recurs between a few contracts and senders, and each
    checksum costs a keccak (a third of a screen worker's CPU per transaction, uncached)."""
    return Address(to_checksum_address(value))


def to_opt_address(value: Any) -> Address | None:
    return None if value in (None, "", "0x") else to_address(value)


def to_transaction(raw: RawTransaction | Mapping[str, Any]) -> Transaction:
    tx: Mapping[str, Any] = raw
    return Transaction(
        hash=to_tx_hash(tx["hash"]),
        sender=to_address(tx["from"]),
        to=to_opt_address(tx.get("to")),
        value=to_int(tx.get("value", 0)),
        data=to_bytes(tx.get("input", tx.get("data"))),
        nonce=to_int(tx["nonce"]),
        gas=to_int(tx["gas"]),
        max_fee_per_gas=to_opt_int(tx.get("maxFeePerGas")),
        max_priority_fee_per_gas=to_opt_int(tx.get("maxPriorityFeePerGas")),
        gas_price=to_opt_int(tx.get("gasPrice")),
        block_number=to_opt_int(tx.get("blockNumber")),
        transaction_index=to_opt_int(tx.get("transactionIndex")),
    )


def to_block(raw: RawBlock | Mapping[str, Any]) -> Block:
    blk: Mapping[str, Any] = raw
    items = list(blk.get("transactions") or ())
    full = tuple(to_transaction(t) for t in items if isinstance(t, Mapping))
    hashes = tuple(t.hash for t in full) if full else tuple(to_tx_hash(t) for t in items)
    return Block(
        number=to_int(blk["number"]),
        hash=to_hash(blk["hash"]),
        parent_hash=to_hash(blk["parentHash"]),
        timestamp=to_int(blk["timestamp"]),
        base_fee=to_opt_int(blk.get("baseFeePerGas")),
        tx_hashes=hashes,
        transactions=full,
        gas_used=to_int(blk.get("gasUsed", 0)),
        gas_limit=to_int(blk.get("gasLimit", 0)),
    )


def to_log(raw: RawLog | Mapping[str, Any]) -> Log:
    lg: Mapping[str, Any] = raw
    return Log(
        address=to_address(lg["address"]),
        topics=tuple(to_hash(t) for t in lg.get("topics", ())),
        data=to_bytes(lg.get("data")),
        block_number=to_int(lg["blockNumber"]),
        block_hash=to_hash(lg["blockHash"]),
        tx_hash=to_tx_hash(lg["transactionHash"]),
        log_index=to_int(lg["logIndex"]),
        removed=bool(lg.get("removed", False)),
    )


def to_receipt(raw: RawReceipt | Mapping[str, Any]) -> Receipt:
    rc: Mapping[str, Any] = raw
    return Receipt(
        tx_hash=to_tx_hash(rc["transactionHash"]),
        status=to_int(rc["status"]) == 1,
        block_number=to_int(rc["blockNumber"]),
        block_hash=to_hash(rc["blockHash"]),
        transaction_index=to_int(rc["transactionIndex"]),
        gas_used=to_int(rc["gasUsed"]),
        effective_gas_price=to_int(rc.get("effectiveGasPrice", 0)),
        contract_address=to_opt_address(rc.get("contractAddress")),
        logs=tuple(to_log(lg) for lg in rc.get("logs", ())),
    )


def to_call_frame(raw: RawCallFrame | Mapping[str, Any]) -> CallFrame:
    fr: Mapping[str, Any] = raw
    return CallFrame(
        type=str(fr["type"]).upper(),
        sender=to_address(fr["from"]),
        to=to_opt_address(fr.get("to")),
        value=to_int(fr.get("value", 0)),
        input=to_bytes(fr.get("input")),
        output=to_bytes(fr.get("output")),
        gas_used=to_int(fr.get("gasUsed", 0)),
        error=fr.get("error"),
        revert_reason=fr.get("revertReason"),
        calls=tuple(to_call_frame(c) for c in fr.get("calls", ()) or ()),
    )


def to_state_diff(raw: RawPrestateDiff | Mapping[str, Any]) -> StateDiff:
    """``prestateTracer`` with ``diffMode``: ``pre`` holds changed fields before, ``post`` after.

    A field missing from ``post`` did not change, except storage slots: a slot absent from
    ``pre`` was zero, one absent from ``post`` was cleared to zero (``StorageChange`` never holds
    ``None`` here).
    """
    pre: Mapping[str, Mapping[str, Any]] = raw.get("pre", {})
    post: Mapping[str, Mapping[str, Any]] = raw.get("post", {})
    balances: dict[Address, tuple[int, int]] = {}
    nonces: dict[Address, tuple[int, int]] = {}
    storage: dict[Address, tuple[StorageChange, ...]] = {}
    code_changed: set[Address] = set()
    for addr in sorted(set(pre) | set(post)):
        before, after = pre.get(addr, {}), post.get(addr, {})
        key = to_address(addr)
        if "balance" in after:
            balances[key] = (to_int(before.get("balance", 0)), to_int(after["balance"]))
        if "nonce" in after:
            nonces[key] = (to_int(before.get("nonce", 0)), to_int(after["nonce"]))
        if "code" in after and to_bytes(after["code"]) != to_bytes(before.get("code")):
            code_changed.add(key)
        slots_before: Mapping[str, Any] = before.get("storage", {}) or {}
        slots_after: Mapping[str, Any] = after.get("storage", {}) or {}
        changes = []
        for slot in sorted(set(slots_before) | set(slots_after)):
            # Tracers omit zero slots: absent before means it was zero; absent after, cleared.
            old = to_hash(slots_before.get(slot, _ZERO))
            new = to_hash(slots_after.get(slot, _ZERO))
            if old != new:
                changes.append(StorageChange(slot=to_hash(slot), before=old, after=new))
        if changes:
            storage[key] = tuple(changes)
    return StateDiff(balances=balances, storage=storage, code_changed=frozenset(code_changed), nonces=nonces)
