"""Asking the chain without trusting it: eth_calls that may fail, the ABI they speak, and the
accounts a protocol mentions (candidates for roles and owners)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Iterable, Sequence
from typing import Any, TypeVar

from eth_abi.exceptions import DecodingError
from eth_utils.crypto import keccak

from bulwark.app.init.found import Abi
from bulwark.chain import ChainClient, TxRequest
from bulwark.chain.abi import decode_result, encode_call
from bulwark.chain.client import LogFilter
from bulwark.chain.safe import ZERO_ADDRESS, checksum
from bulwark.domain import Address, Hash32
from bulwark.errors import ChainError, RpcUnreachable

T = TypeVar("T")

ROLE_GRANTED = Hash32("0x" + keccak(text="RoleGranted(bytes32,address,address)").hex())
NOBODY = Address("0x000000000000000000000000000000000000dEaD")


def _fn(name: str, inputs: Sequence[str] = (), outputs: Sequence[str] = ()) -> dict[str, Any]:
    return {
        "type": "function",
        "name": name,
        "inputs": [{"type": t, "name": ""} for t in inputs],
        "outputs": [{"type": t, "name": ""} for t in outputs],
        "stateMutability": "view",
    }


# What probing calls (OpenZeppelin / Safe / ERC-20 interfaces), whatever the ABI says.
PROBE_ABI: Abi = (
    _fn("owner", (), ("address",)),
    _fn("hasRole", ("bytes32", "address"), ("bool",)),
    _fn("getMinDelay", (), ("uint256",)),
    _fn("getOwners", (), ("address[]",)),
    _fn("getThreshold", (), ("uint256",)),
    _fn("isSentinel", ("address",), ("bool",)),
    _fn("decimals", (), ("uint8",)),
    _fn("symbol", (), ("string",)),
    _fn("balanceOf", ("address",), ("uint256",)),
    _fn("paused", (), ("bool",)),
    _fn("pause"),
    _fn("upgradeToAndCall", ("address", "bytes")),
)


class Accounts:
    """Every account the protocol mentions, in the order found (candidates for roles and owners)."""

    def __init__(self) -> None:
        self._seen: dict[Address, None] = {}

    def add(self, *accounts: object) -> None:
        for acc in accounts:
            if isinstance(acc, str) and acc != ZERO_ADDRESS:
                self._seen[checksum(acc)] = None

    def all(self) -> list[Address]:
        return list(self._seen)


class Probe:
    """eth_calls that may fail (no such function, not a contract): None instead of an error, except
    when the endpoint itself is gone."""

    def __init__(self, client: ChainClient) -> None:
        self.client = client

    async def call(
        self, to: str, fn: str, *args: Any, abi: Abi = PROBE_ABI, sender: str | None = None
    ) -> Any:
        try:
            tx = TxRequest(to=checksum(to), data=encode_call(abi, fn, *args))
            out = await self.client.call(tx, sender=checksum(sender) if sender else None)
            if not out and fn != "pause":
                return None
            return decode_result(abi, fn, out, len(args))
        except RpcUnreachable:
            raise
        except (ChainError, DecodingError, ValueError, OverflowError):
            return None

    async def succeeds(self, to: str, fn: str, *args: Any, sender: str) -> bool:
        """Whether ``fn`` called by ``sender`` would succeed (an eth_call: nothing is sent)."""
        try:
            tx = TxRequest(to=checksum(to), data=encode_call(PROBE_ABI, fn, *args))
            await self.client.call(tx, sender=checksum(sender))
            return True
        except RpcUnreachable:
            raise
        except ChainError:
            return False


def getters(abi: Abi, output: str) -> list[str]:
    """Functions without inputs returning one ``output`` value that do not change state."""
    return [
        str(e["name"])
        for e in abi
        if e.get("type") == "function"
        and not e.get("inputs")
        and [o.get("type") for o in e.get("outputs") or []] == [output]
        and e.get("stateMutability") in ("view", "pure")
    ]


def has(abi: Abi, name: str) -> bool:
    return any(e.get("type") == "function" and e.get("name") == name for e in abi)


async def granted_accounts(client: ChainClient, address: Address) -> list[Address]:
    """Accounts ever granted a role here (``RoleGranted`` logs); none when the node refuses the range."""
    try:
        logs = await client.get_logs(
            LogFilter(address=address, topics=(ROLE_GRANTED,), from_block=0, to_block="latest")
        )
    except ChainError:
        # A public endpoint may cap the range or time out on it: the other candidates still apply
        # (and a node that is really gone fails the very next probe).
        return []
    return [checksum("0x" + str(lg.topics[2])[-40:]) for lg in logs if len(lg.topics) > 2]


async def gather(calls: Iterable[Awaitable[T]]) -> list[T]:
    return list(await asyncio.gather(*calls))


async def role_holders(
    probe: Probe, at: Address, role: bytes, candidates: Sequence[Address]
) -> tuple[Address, ...]:
    answers = await gather(probe.call(at, "hasRole", role, c) for c in candidates)
    return tuple(c for c, yes in zip(candidates, answers, strict=True) if yes is True)
