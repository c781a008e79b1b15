"""Small EVM helpers shared by the built-ins: well-known topics and selectors, and token flows."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from functools import lru_cache

from eth_utils.address import to_checksum_address
from eth_utils.crypto import keccak

from bulwark.domain import Address, Hash32, Log, Selector


def topic(signature: str) -> Hash32:
    return Hash32("0x" + keccak(text=signature).hex())


def selector(signature: str) -> Selector:
    return Selector("0x" + keccak(text=signature)[:4].hex())


TRANSFER = topic("Transfer(address,address,uint256)")
ZERO = Address("0x0000000000000000000000000000000000000000")


@lru_cache(maxsize=1 << 16)
def checksum(address: str) -> Address:
    """EIP-55 form, cached: checksumming costs a keccak and dominated screening time uncached."""
    return Address(to_checksum_address(address.lower()))


@lru_cache(maxsize=1 << 16)
def topic_address(value: str) -> Address:
    """The address in an indexed topic, cached by the topic itself (a Transfer's two topics are
    read for every log screened; the same holders recur)."""
    return checksum("0x" + value[-40:])


def word(data: bytes, index: int) -> int:
    return int.from_bytes(data[32 * index : 32 * index + 32], "big")


def transfer(log: Log) -> tuple[Address, Address, Address, int] | None:
    """(token, from, to, amount) of an ERC-20 Transfer; ``None`` for anything else (ERC-721 too)."""
    topics = log.topics
    if len(topics) != 3 or topics[0] != TRANSFER or len(log.data) != 32:
        return None
    return log.address, topic_address(topics[1]), topic_address(topics[2]), int.from_bytes(log.data, "big")


def net_flows(logs: Iterable[Log]) -> dict[tuple[Address, Address], int]:
    """Net change of each (token, holder) balance implied by Transfer logs (mints/burns included)."""
    out: dict[tuple[Address, Address], int] = defaultdict(int)
    for log in logs:
        t = transfer(log)
        if t is None:
            continue
        token, src, dst, amount = t
        out[(token, src)] -= amount
        out[(token, dst)] += amount
    return dict(out)


def contains_address(code: bytes, address: str) -> bool:
    return bytes.fromhex(address[2:]) in code
