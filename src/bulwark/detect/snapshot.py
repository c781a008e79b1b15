"""The protocol's state at a head, read once per block: holdings, vault share prices, pool reserves,
oracle prices, proxy implementations and configured probes, which detectors compare a pending
transaction's effects against. A value that cannot be read is left out (its judgement then stays
silent rather than guessing)."""

from __future__ import annotations

import asyncio

from bulwark.chain.eip1967 import IMPLEMENTATION_SLOT
from bulwark.chain.mempool import BatchRpc
from bulwark.detect.evm import checksum, selector, word
from bulwark.detect.model import PoolState, Probe, ProtocolModel, ProtocolState, VaultState
from bulwark.domain import Address
from bulwark.errors import ChainError

_BALANCE_OF = selector("balanceOf(address)")
_ASSET = selector("asset()")
_TOTAL_ASSETS = selector("totalAssets()")
_TOTAL_SUPPLY = selector("totalSupply()")
_TOKEN0 = selector("token0()")
_TOKEN1 = selector("token1()")
_RESERVES = selector("getReserves()")
_PRICE = selector("price(address)")


def _arg(address: Address) -> str:
    return "00" * 12 + address[2:].lower()


async def _call(rpc: BatchRpc, to: Address, data: str) -> bytes | None:
    try:
        out = await rpc.request("eth_call", [{"to": to, "data": data}, "latest"])
    except ChainError:
        return None
    raw = bytes.fromhex(out[2:]) if isinstance(out, str) and out.startswith("0x") else b""
    return raw if len(raw) >= 32 else None


def _address_word(raw: bytes | None) -> Address | None:
    return checksum("0x" + raw[12:32].hex()) if raw else None


async def read_state(rpc: BatchRpc, proto: ProtocolModel, block_number: int = 0) -> ProtocolState:
    """One snapshot of the values detectors compare against; unreadable values are left out."""

    async def holding(
        token: Address | None, holder: Address
    ) -> tuple[tuple[Address | None, Address], int | None]:
        if token is None:
            try:
                return (None, holder), int(await rpc.request("eth_getBalance", [holder, "latest"]), 16)
            except ChainError:
                return (None, holder), None
        raw = await _call(rpc, token, _BALANCE_OF + _arg(holder))
        return (token, holder), (word(raw, 0) if raw else None)

    holdings_q = [holding(a.address, h) for a in proto.assets for h in a.holders]

    async def vault(addr: Address) -> tuple[Address, VaultState | None]:
        asset, total, supply = await asyncio.gather(
            _call(rpc, addr, _ASSET), _call(rpc, addr, _TOTAL_ASSETS), _call(rpc, addr, _TOTAL_SUPPLY)
        )
        token = _address_word(asset)
        if token is None or total is None or supply is None:
            return addr, None
        return addr, VaultState(token, word(total, 0), word(supply, 0))

    async def pool(addr: Address) -> tuple[Address, PoolState | None]:
        t0, t1, res = await asyncio.gather(
            _call(rpc, addr, _TOKEN0), _call(rpc, addr, _TOKEN1), _call(rpc, addr, _RESERVES)
        )
        a0, a1 = _address_word(t0), _address_word(t1)
        if a0 is None or a1 is None or res is None or len(res) < 64:
            return addr, None
        return addr, PoolState(a0, a1, word(res, 0), word(res, 1))

    async def price(oracle: Address, asset: Address) -> tuple[tuple[Address, Address], int | None]:
        raw = await _call(rpc, oracle, _PRICE + _arg(asset))
        return (oracle, asset), (word(raw, 0) if raw else None)

    async def implementation(addr: Address) -> tuple[Address, Address | None]:
        try:
            raw = await rpc.request("eth_getStorageAt", [addr, IMPLEMENTATION_SLOT, "latest"])
        except ChainError:
            return addr, None
        value = int(raw, 16) if isinstance(raw, str) and raw.startswith("0x") else 0
        return addr, checksum("0x" + value.to_bytes(32, "big")[12:].hex()) if value else None

    async def head() -> tuple[int, int]:
        try:
            block = await rpc.request("eth_getBlockByNumber", ["latest", False])
            return int(block["number"], 16), int(block["timestamp"], 16)
        except (ChainError, TypeError, ValueError, KeyError):
            return block_number, 0

    async def probe(addr: Address, p: Probe) -> tuple[tuple[Address, str], int | None]:
        raw = await _call(rpc, addr, "0x" + p.data.hex())
        return (addr, p.call), (word(raw, 0) if raw else None)

    erc20 = [a.address for a in proto.assets if a.address is not None]
    # Probes read alongside (asyncio.gather's typing stops at six awaitables).
    probes_q = asyncio.gather(*(probe(c.address, p) for c in proto.contracts.values() for p in c.probes))
    (number, stamp), holdings, vaults, pools, prices, impls = await asyncio.gather(
        head(),
        asyncio.gather(*holdings_q),
        asyncio.gather(*(vault(c.address) for c in proto.by_kind("vault"))),
        asyncio.gather(*(pool(c.address) for c in proto.by_kind("amm"))),
        asyncio.gather(*(price(o.address, a) for o in proto.by_kind("oracle") for a in erc20)),
        asyncio.gather(*(implementation(a) for a in proto.contracts)),
    )
    probes = await probes_q
    return ProtocolState(
        block_number=max(number, block_number),  # the head the values were read at
        timestamp=stamp,
        holdings={k: v for k, v in holdings if v is not None},
        vaults={k: v for k, v in vaults if v is not None},
        pools={k: v for k, v in pools if v is not None},
        oracle_prices={k: v for k, v in prices if v is not None},
        implementations={k: v for k, v in impls if v is not None},
        probes={k: v for k, v in probes if v is not None},
    )


__all__ = ["read_state"]
