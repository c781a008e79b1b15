"""Drive a Safe-governed reference deployment (the demo protocol, LendHub) through its Safe and
timelock, as its owners would by hand: sign with their keys, schedule, wait the delay, execute.

    await upgrade_via_safe(client, protocol, "vault", new_impl, signers=protocol.safe_owners[:2])

Bulwark's own governance (proposals bound to evidence, approvals collected over time) is the
govern and execute stages; this is the scenario side's direct path, for setting scenes and tests.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from eth_utils.crypto import keccak

from bulwark.chain import ChainClient, TxRequest
from bulwark.chain.abi import encode_call
from bulwark.chain.eip1967 import implementation_of
from bulwark.chain.safe import SafeSignature, SafeTx, checksum, pack_signatures, safe_tx_hash, sign_safe_tx
from bulwark.domain import Address, Receipt
from bulwark.errors import ScenarioError
from bulwark.scenarios.deploy import ChainOps
from bulwark.scenarios.protocol import Actor, DemoProtocol, SafeGoverned

__all__ = [
    "TimelockOp",
    "exec_via_safe",
    "execute_via_safe",
    "govern_via_safe",
    "safe_nonce",
    "schedule_via_safe",
    "unpause_via_safe",
    "upgrade_via_safe",
]


def _signing_actors(signers: Sequence[Actor | str]) -> list[str]:
    return [s.private_key if isinstance(s, Actor) else s for s in signers]


async def safe_nonce(client: ChainClient, protocol: SafeGoverned) -> int:
    return int(await ChainOps(client).call(protocol.safe.address, protocol.safe.abi, "nonce"))


async def exec_via_safe(
    client: ChainClient,
    protocol: SafeGoverned,
    to: str,
    data: bytes,
    signers: Sequence[Actor | str],
    *,
    relayer: Actor | None = None,
) -> Receipt:
    """Have the Safe call ``to`` with ``data``, authorised by EIP-712 signatures of ``signers``.

    Anybody may submit a signed Safe transaction; the relayer defaults to the first Safe owner.
    The inner call is simulated from the Safe first: once mined, the Safe reports any inner
    failure only as GS013, which would hide the reason (e.g. TimelockInsufficientDelay).
    """
    ops = ChainOps(client)
    await client.call(
        TxRequest(to=checksum(to), data=data), sender=protocol.safe.address, abi=_error_abi(protocol)
    )
    nonce = await safe_nonce(client, protocol)
    tx = SafeTx(to=checksum(to), data=data, nonce=nonce)
    sigs: list[SafeSignature] = [
        sign_safe_tx(tx, protocol.chain_id, protocol.safe.address, key) for key in _signing_actors(signers)
    ]
    onchain_hash = await ops.call(
        protocol.safe.address, protocol.safe.abi, "getTransactionHash", *tx.args(), nonce
    )
    local_hash = safe_tx_hash(tx, protocol.chain_id, protocol.safe.address)
    if "0x" + bytes(onchain_hash).hex() != local_hash:
        raise ScenarioError(
            f"Safe tx hash mismatch: local {local_hash}, Safe says 0x{bytes(onchain_hash).hex()}"
        )
    sender = relayer or protocol.safe_owners[0]
    return await ops.transact(
        sender, protocol.safe.address, protocol.safe.abi, "execTransaction", *tx.args(), pack_signatures(sigs)
    )


def _error_abi(protocol: SafeGoverned) -> list[Mapping[str, Any]]:
    """Every custom error the protocol's contracts can raise, to decode bubbled-up reverts."""
    return [e for abi in protocol.abis() for e in abi if e.get("type") == "error"]


@dataclass(frozen=True, slots=True)
class TimelockOp:
    """One timelocked call, identified as TimelockController.hashOperation does."""

    target: Address
    data: bytes
    salt: bytes
    value: int = 0
    predecessor: bytes = b"\x00" * 32

    def schedule_args(self, delay: int) -> tuple[Any, ...]:
        return (self.target, self.value, self.data, self.predecessor, self.salt, delay)

    def execute_args(self) -> tuple[Any, ...]:
        return (self.target, self.value, self.data, self.predecessor, self.salt)


async def schedule_via_safe(
    client: ChainClient,
    protocol: SafeGoverned,
    target: str,
    data: bytes,
    signers: Sequence[Actor | str],
    *,
    delay: int | None = None,
) -> TimelockOp:
    """Safe -> TimelockController.schedule(target, 0, data, 0, salt, delay); returns the operation."""
    nonce = await safe_nonce(client, protocol)
    # The Safe nonce makes the salt unique, so the same call can be scheduled again later.
    op = TimelockOp(target=checksum(target), data=data, salt=keccak(b"bulwark" + nonce.to_bytes(32, "big")))
    call = encode_call(
        protocol.timelock.abi,
        "schedule",
        *op.schedule_args(protocol.timelock_delay if delay is None else delay),
    )
    await exec_via_safe(client, protocol, protocol.timelock.address, call, signers)
    return op


async def execute_via_safe(
    client: ChainClient, protocol: SafeGoverned, op: TimelockOp, signers: Sequence[Actor | str]
) -> Receipt:
    """Safe -> TimelockController.execute(...) of a scheduled, ready operation."""
    call = encode_call(protocol.timelock.abi, "execute", *op.execute_args())
    return await exec_via_safe(client, protocol, protocol.timelock.address, call, signers)


async def govern_via_safe(
    client: ChainClient,
    protocol: SafeGoverned,
    target: str,
    data: bytes,
    signers: Sequence[Actor | str],
    *,
    advance_time: bool = True,
) -> Receipt:
    """Schedule then execute ``target.call(data)`` through Safe and timelock.

    With a non-zero delay and ``advance_time`` the chain clock is moved past the delay
    (``evm_increaseTime``: anvil only); otherwise executing early fails as it should.
    """
    op = await schedule_via_safe(client, protocol, target, data, signers)
    if protocol.timelock_delay and advance_time:
        await client.request("evm_increaseTime", [protocol.timelock_delay])
        await client.mine()
    return await execute_via_safe(client, protocol, op, signers)


async def upgrade_via_safe(
    client: ChainClient,
    protocol: SafeGoverned,
    component: str,
    new_impl_address: str,
    signers: Sequence[Actor | str],
    *,
    call_data: bytes = b"",
    advance_time: bool = True,
) -> Receipt:
    """Safe (EIP-712, threshold signatures) -> timelock schedule + execute -> the protocol's upgrade
    call (UUPS ``upgradeToAndCall``, or ``ProxyAdmin.upgradeAndCall``), then the check that the
    proxy's EIP-1967 implementation slot names ``new_impl_address``."""
    up = protocol.upgrade_call(component, new_impl_address, call_data)
    receipt = await govern_via_safe(client, protocol, up.target, up.data, signers, advance_time=advance_time)
    live = await implementation_of(client, up.proxy)
    if live != checksum(new_impl_address):
        raise ScenarioError(f"{component} still points at {live} after the upgrade")
    return receipt


async def unpause_via_safe(
    client: ChainClient,
    protocol: DemoProtocol,
    component: str,
    signers: Sequence[Actor | str],
    *,
    selectors: Sequence[bytes] = (),
    advance_time: bool = True,
) -> Receipt:
    """Lift a pause through governance: the whole pause, or only the given selectors."""
    comp = protocol.component(component)
    data = (
        encode_call(comp.abi, "unpauseSelectors", list(selectors))
        if selectors
        else encode_call(comp.abi, "unpause")
    )
    return await govern_via_safe(client, protocol, comp.proxy, data, signers, advance_time=advance_time)
