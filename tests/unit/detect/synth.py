"""Synthetic protocol + raw callTracer builders: detectors are tested on the shapes a node returns."""

from __future__ import annotations

from typing import Any

from eth_utils.address import to_checksum_address

from bulwark.detect.evm import TRANSFER, selector
from bulwark.detect.model import (
    AssetInfo,
    ChainView,
    ContractInfo,
    PoolState,
    ProtocolModel,
    ProtocolState,
    TxEvent,
    VaultState,
)
from bulwark.detect.trace import parse_call_trace, parse_state_diff
from bulwark.domain import Address, Transaction, TxHash


def addr(n: int) -> Address:
    return Address(to_checksum_address("0x" + f"{n:02x}" * 20))


USD, WETH, ORACLE, POOL, LENDING, VAULT, FLASH, TIMELOCK, FEEDER = (addr(i) for i in range(1, 10))
ATTACKER, ATTACK_CONTRACT, USER = addr(0xA1), addr(0xA2), addr(0xB1)
ZERO = Address("0x" + "00" * 20)


def protocol() -> ProtocolModel:
    kinds = {
        USD: ("usd", "token"),
        WETH: ("weth", "token"),
        ORACLE: ("oracle", "oracle"),
        POOL: ("pool", "amm"),
        LENDING: ("lending", "lending"),
        VAULT: ("vault", "vault"),
        FLASH: ("flash", "flash-lender"),
    }
    contracts = {a: ContractInfo(name=n, address=a, kind=k) for a, (n, k) in kinds.items()}
    assets = (
        AssetInfo("usd", USD, 18, (LENDING, VAULT, POOL, FLASH)),
        AssetInfo("weth", WETH, 18, (LENDING, POOL, FLASH)),
    )
    roles = {
        "admin": frozenset({TIMELOCK}),
        "upgrader": frozenset({TIMELOCK}),
        "oracle": frozenset({FEEDER}),
    }
    return ProtocolModel("demo", contracts, assets, roles)


E18 = 10**18


def state() -> ProtocolState:
    return ProtocolState(
        block_number=100,
        holdings={
            (USD, LENDING): 1_000_000 * E18,
            (WETH, LENDING): 500 * E18,
            (USD, VAULT): 100_000 * E18,
            (USD, POOL): 2_000_000 * E18,
            (WETH, POOL): 1_000 * E18,
            (USD, FLASH): 5_000_000 * E18,
            (WETH, FLASH): 1_000 * E18,
        },
        vaults={VAULT: VaultState(USD, 100_000 * E18, 100_000 * 10**24)},
        pools={POOL: PoolState(WETH, USD, 1_000 * E18, 2_000_000 * E18)},
        oracle_prices={(ORACLE, WETH): 2_000 * E18},
    )


def make_view() -> ChainView:
    return ChainView(protocol(), state())


def h(a: str) -> str:
    return a.lower()


def transfer_log(
    token: Address, src: Address, dst: Address, amount: int, position: int = 0
) -> dict[str, Any]:
    return {
        "address": h(token),
        "topics": [TRANSFER, "0x" + "00" * 12 + src[2:].lower(), "0x" + "00" * 12 + dst[2:].lower()],
        "data": "0x" + amount.to_bytes(32, "big").hex(),
        "position": hex(position),
    }


def call(
    src: Address,
    to: Address,
    sig: str | None = None,
    args: bytes = b"",
    *,
    typ: str = "CALL",
    calls: list[dict[str, Any]] | None = None,
    logs: list[dict[str, Any]] | None = None,
    error: str | None = None,
    output: bytes = b"",
    value: int = 0,
) -> dict[str, Any]:
    data = (bytes.fromhex(selector(sig)[2:]) if sig else b"") + args
    frame: dict[str, Any] = {
        "type": typ,
        "from": h(src),
        "to": h(to),
        "input": "0x" + data.hex(),
        "output": "0x" + output.hex(),
        "gasUsed": "0x5208",
        "value": hex(value),
    }
    if calls:
        frame["calls"] = calls
    if logs:
        frame["logs"] = logs
    if error:
        frame["error"] = error
    return frame


def word(v: int | str) -> bytes:
    if isinstance(v, str):
        return bytes.fromhex("00" * 12 + v[2:])
    return v.to_bytes(32, "big")


def event(
    raw: dict[str, Any],
    *,
    pending: bool = True,
    diff: dict[str, Any] | None = None,
    sender: Address | None = None,
) -> TxEvent:
    tx_hash = TxHash("0x" + "ab" * 32)
    root, steps = parse_call_trace(raw, tx_hash)  # type: ignore[arg-type]
    tx = Transaction(
        hash=tx_hash,
        sender=sender or root.sender,
        to=root.to,
        value=root.value,
        data=root.input,
        nonce=0,
        gas=1_000_000,
    )
    return TxEvent(tx, pending, root, parse_state_diff(diff) if diff is not None else None, steps)
