"""Disposable anvil forks of the live chain, and putting a candidate implementation on one.

A fork is started at a block of the live RPC with ``--auto-impersonate`` (every replayed sender
signs implicitly) and without the EIP-170 check (an oversized candidate is still measured; the
size rule is enforced by the safety checks). Bulk requests go through a batching JSON-RPC caller.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from types import TracebackType
from typing import Any

from bulwark.chain import ChainClient, TxRequest
from bulwark.chain.abi import decode_result, encode_call
from bulwark.chain.convert import to_address, to_bytes, to_int
from bulwark.chain.eip1967 import implementation_of
from bulwark.chain.mempool import BatchRpc
from bulwark.domain import Address, TxHash
from bulwark.errors import BulwarkError
from bulwark.toolchain.anvil import Anvil, AnvilOptions

__all__ = [
    "VERIFIER",
    "Fork",
    "Installed",
    "VerifyError",
    "implementation_of",  # from bulwark.chain.eip1967, for verify.engine
]

# A fixed account that deploys candidates on forks: never a live account, so no live nonce moves.
VERIFIER = Address("0x" + hashlib.sha256(b"bulwark.verify.deployer").hexdigest()[:40])
_UUPS_ABI: list[dict[str, Any]] = [
    {
        "type": "function",
        "name": "upgradeToAndCall",
        "stateMutability": "payable",
        "inputs": [{"name": "n", "type": "address"}, {"name": "d", "type": "bytes"}],
        "outputs": [],
    },
    {
        "type": "function",
        "name": "hasRole",
        "stateMutability": "view",
        "inputs": [{"name": "r", "type": "bytes32"}, {"name": "a", "type": "address"}],
        "outputs": [{"name": "", "type": "bool"}],
    },
    {
        "type": "function",
        "name": "owner",
        "stateMutability": "view",
        "inputs": [],
        "outputs": [{"name": "", "type": "address"}],
    },
]


class VerifyError(BulwarkError, RuntimeError):
    """Verification could not be carried out (not: the candidate failed it)."""


def _keccak(data: bytes) -> str:
    from eth_utils.crypto import keccak

    return "0x" + keccak(data).hex()


UPGRADER_ROLE = _keccak(b"UPGRADER_ROLE")
ROLE_GRANTED = _keccak(b"RoleGranted(bytes32,address,address)")


@dataclass(frozen=True, slots=True)
class Installed:
    implementation: Address
    how: str  # human/evidence description of the path used (stable across runs)


class Fork:
    """An anvil fork of ``rpc_url`` at ``block`` (inclusive: the fork's head is that block)."""

    def __init__(self, rpc_url: str, block: int) -> None:
        self.block = block
        self.node = Anvil(
            AnvilOptions(
                fork_url=rpc_url,
                fork_block=block,
                auto_impersonate=True,
                order="fifo",
                code_size_limit=0x100000,
                extra_args=("--disable-block-gas-limit",),
                chain_id=None,
            )
        )
        self.client: ChainClient
        self.batch: BatchRpc
        self.last_timestamp = 0

    async def __aenter__(self) -> Fork:
        await asyncio.to_thread(self.node.start)
        self.client = ChainClient(self.node.http_url, timeout_s=60.0)
        self.batch = BatchRpc(self.node.http_url, max_batch=64, timeout_s=120.0)
        try:
            # Blocks are mined only on request, with timestamps derived from the chain, never
            # from the wall clock: the same replay gives the same results (and evidence hash).
            await self.client.set_automine(False)
            head = await self.client.get_block("latest")
            self.last_timestamp = head.timestamp
        except BaseException:
            await self.__aexit__(None, None, None)
            raise
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        try:
            await self.batch.close()
            await self.client.close()
        finally:
            await asyncio.to_thread(self.node.stop)

    @property
    def url(self) -> str:
        return self.node.http_url

    async def rpc(self, method: str, params: Sequence[Any] = ()) -> Any:
        return await self.batch.request(method, params)

    async def many(self, calls: Sequence[tuple[str, Sequence[Any]]]) -> list[Any]:
        """Send requests concurrently (coalesced into batches); results in order."""
        return list(await asyncio.gather(*(self.batch.request(m, p) for m, p in calls)))

    async def send(
        self, sender: Address, to: Address | None, data: bytes, value: int = 0, gas: int | None = None
    ) -> TxHash:
        tx: dict[str, Any] = {"from": sender, "data": "0x" + data.hex(), "value": hex(value)}
        if to is not None:
            tx["to"] = to
        tx["gas"] = hex(gas or 30_000_000)
        return TxHash(str(await self.client.request("eth_sendTransaction", [tx])))

    async def receipt(self, tx_hash: str) -> Mapping[str, Any]:
        raw = await self.rpc("eth_getTransactionReceipt", [tx_hash])
        if raw is None:
            raise VerifyError(f"replayed transaction {tx_hash} was not mined on the fork")
        return dict(raw)

    async def deploy(self, init_code: bytes) -> Address:
        await self.client.set_balance(VERIFIER, 10**24)
        rc = await self.execute(VERIFIER, None, init_code)
        if to_int(rc.get("status", 0)) != 1 or not rc.get("contractAddress"):
            raise VerifyError(
                "deploying the candidate implementation on the fork failed (constructor reverted)"
            )
        return to_address(rc["contractAddress"])

    async def find_upgrader(self, proxy: Address) -> Address | None:
        """Who may upgrade: an account holding UPGRADER_ROLE (from RoleGranted logs), else owner()."""
        logs = await self.client.request(
            "eth_getLogs",
            [
                {
                    "address": proxy,
                    "fromBlock": "0x0",
                    "toBlock": hex(self.block),
                    "topics": [ROLE_GRANTED, UPGRADER_ROLE],
                }
            ],
        )
        for entry in reversed(logs or []):
            account = to_address("0x" + entry["topics"][2][-40:])
            if await self._call_bool(proxy, "hasRole", bytes.fromhex(UPGRADER_ROLE[2:]), account):
                return account
        try:
            out = await self.client.call(TxRequest(to=proxy, data=encode_call(_UUPS_ABI, "owner")))
            owner = decode_result(_UUPS_ABI, "owner", out)
            return to_address(owner) if int(str(owner), 16) else None
        except BulwarkError:
            return None

    async def _call_bool(self, to: Address, fn: str, *args: Any) -> bool:
        try:
            out = await self.client.call(TxRequest(to=to, data=encode_call(_UUPS_ABI, fn, *args)))
        except BulwarkError:
            return False
        return bool(decode_result(_UUPS_ABI, fn, out))

    async def upgrade(self, proxy: Address, implementation: Address, upgrader: Address) -> bool:
        data = encode_call(_UUPS_ABI, "upgradeToAndCall", implementation, b"")
        if await self._balance(upgrader) < 10**20:
            await self.client.set_balance(upgrader, 10**24)
        rc = await self.execute(upgrader, proxy, data, gas=5_000_000)
        return (
            to_int(rc.get("status", 0)) == 1 and await implementation_of(self.client, proxy) == implementation
        )

    async def _balance(self, who: Address) -> int:
        return to_int(await self.rpc("eth_getBalance", [who, "latest"]))

    async def install(
        self, proxy: Address, init_code: bytes, upgrader: Address | None
    ) -> tuple[Installed | None, str]:
        """Deploy the candidate and upgrade the proxy to it as the upgrader would.

        Returns (installed, problem): ``installed`` is None when the real path failed (the
        problem says why); the caller may then fall back to :meth:`set_code`.
        """
        impl = await self.deploy(init_code)
        who = upgrader or await self.find_upgrader(proxy)
        if who is None:
            return None, "no account holding UPGRADER_ROLE or owner() found on the proxy"
        if await self.upgrade(proxy, impl, who):
            return Installed(impl, f"upgradeToAndCall from {who} (impersonated)"), ""
        return None, f"upgradeToAndCall({impl}) from the upgrader {who} reverted"

    async def set_code(self, proxy: Address, runtime: bytes) -> Installed:
        impl = await implementation_of(self.client, proxy)
        await self.client.set_code(impl, runtime)
        return Installed(impl, "anvil_setCode at the live implementation address")

    async def anyone_can_upgrade(self, proxy: Address, implementation: Address) -> bool:
        """eth_call upgradeToAndCall from an account with no role: True when it would succeed."""
        stranger = Address("0x" + hashlib.sha256(b"bulwark.verify.stranger").hexdigest()[:40])
        data = encode_call(_UUPS_ABI, "upgradeToAndCall", implementation, b"")
        try:
            await self.client.call(TxRequest(to=proxy, data=data), sender=stranger)
        except BulwarkError:
            return False
        return True

    async def mine(self, timestamp: int | None = None) -> None:
        """Mine one block at ``timestamp`` (at least one second after the previous block)."""
        ts = max(timestamp or 0, self.last_timestamp + 1)
        await self.client.request("evm_setNextBlockTimestamp", [ts])
        await self.client.mine(1)
        self.last_timestamp = ts

    async def execute(
        self, sender: Address, to: Address | None, data: bytes, value: int = 0, gas: int | None = None
    ) -> Mapping[str, Any]:
        """Send one transaction, mine it in its own block, return its receipt."""
        tx_hash = await self.send(sender, to, data, value, gas)
        await self.mine()
        return await self.receipt(tx_hash)

    async def code(self, address: Address) -> bytes:
        return to_bytes(await self.rpc("eth_getCode", [address, "latest"]))
