"""The governance path on chain: TimelockController, UUPS/ERC-1967 proxies, AccessControl, MultiSend.

Minimal ABIs written from the OpenZeppelin v5 interfaces (only what governance calls), operation
ids computed as ``TimelockController.hashOperation`` does, and MultiSend packing. Shared by the
``govern`` and ``execute`` stages, which must not import each other.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from eth_abi.abi import encode
from eth_utils.crypto import keccak

from bulwark.chain.abi import decode_result, encode_call
from bulwark.chain.client import ChainClient, TxRequest
from bulwark.chain.safe import checksum, safe_artifact
from bulwark.domain import Hash32
from bulwark.errors import ChainError

ZERO32 = Hash32("0x" + "00" * 32)
DEFAULT_ADMIN_ROLE = b"\x00" * 32
UPGRADER_ROLE = keccak(text="UPGRADER_ROLE")
PAUSER_ROLE = keccak(text="PAUSER_ROLE")
PROPOSER_ROLE = keccak(text="PROPOSER_ROLE")
EXECUTOR_ROLE = keccak(text="EXECUTOR_ROLE")
CANCELLER_ROLE = keccak(text="CANCELLER_ROLE")
_PAUSED_CALL = keccak(text="paused()")[:4]
# ERC-7201 slot of OpenZeppelin's PausableUpgradeable (`openzeppelin.storage.Pausable`).
PAUSABLE_SLOT = Hash32("0xcd5ed15c6e187e77e9aee88184c21f4f2182ab5827cb3b7e07fbedcd63f03300")


def _p(typ: str, name: str = "") -> dict[str, str]:
    return {"type": typ, "name": name, "internalType": typ}


def _fn(name: str, inputs: Sequence[str], outputs: Sequence[str] = (), view: bool = False) -> dict[str, Any]:
    return {
        "type": "function",
        "name": name,
        "inputs": [_p(t) for t in inputs],
        "outputs": [_p(t) for t in outputs],
        "stateMutability": "view" if view else "nonpayable",
    }


def _err(name: str, inputs: Sequence[str] = ()) -> dict[str, Any]:
    return {"type": "error", "name": name, "inputs": [_p(t) for t in inputs]}


ERRORS: tuple[dict[str, Any], ...] = (
    _err("TimelockInvalidOperationLength", ["uint256", "uint256", "uint256"]),
    _err("TimelockInsufficientDelay", ["uint256", "uint256"]),
    _err("TimelockUnexpectedOperationState", ["bytes32", "bytes32"]),
    _err("TimelockUnexecutedPredecessor", ["bytes32"]),
    _err("TimelockUnauthorizedCaller", ["address"]),
    _err("AccessControlUnauthorizedAccount", ["address", "bytes32"]),
    _err("EnforcedPause"),
    _err("ExpectedPause"),
    _err("UUPSUnauthorizedCallContext"),
    _err("UUPSUnsupportedProxiableUUID", ["bytes32"]),
    _err("ERC1967InvalidImplementation", ["address"]),
    _err("FailedCall"),
    _err("FailedInnerCall"),
)

TIMELOCK_ABI: tuple[dict[str, Any], ...] = (
    _fn("getMinDelay", [], ["uint256"], view=True),
    _fn("hasRole", ["bytes32", "address"], ["bool"], view=True),
    _fn("isOperation", ["bytes32"], ["bool"], view=True),
    _fn("isOperationPending", ["bytes32"], ["bool"], view=True),
    _fn("isOperationReady", ["bytes32"], ["bool"], view=True),
    _fn("isOperationDone", ["bytes32"], ["bool"], view=True),
    _fn("getTimestamp", ["bytes32"], ["uint256"], view=True),
    _fn("hashOperation", ["address", "uint256", "bytes", "bytes32", "bytes32"], ["bytes32"], view=True),
    _fn("schedule", ["address", "uint256", "bytes", "bytes32", "bytes32", "uint256"]),
    _fn("execute", ["address", "uint256", "bytes", "bytes32", "bytes32"]),
    *ERRORS,
)

PROXY_ABI: tuple[dict[str, Any], ...] = (
    _fn("hasRole", ["bytes32", "address"], ["bool"], view=True),
    _fn("paused", [], ["bool"], view=True),
    _fn("upgradeToAndCall", ["address", "bytes"]),
    _fn("unpause", []),
    _fn("proxiableUUID", [], ["bytes32"], view=True),
    *ERRORS,
)

# OpenZeppelin's ProxyAdmin (v5): a Transparent proxy is upgraded by its admin contract.
PROXY_ADMIN_ABI: tuple[dict[str, Any], ...] = (
    _fn("owner", [], ["address"], view=True),
    _fn("upgradeAndCall", ["address", "address", "bytes"]),
    *ERRORS,
)

GUARDIAN_ABI: tuple[dict[str, Any], ...] = (
    _fn("owner", [], ["address"], view=True),
    _fn("isSentinel", ["address"], ["bool"], view=True),
)

MULTISEND_ABI: tuple[dict[str, Any], ...] = (_fn("multiSend", ["bytes"]),)


def safe_abi() -> tuple[Mapping[str, Any], ...]:
    return safe_artifact("Safe").abi


def operation_id(target: str, value: int, data: bytes, predecessor: bytes, salt: bytes) -> Hash32:
    """``TimelockController.hashOperation(target, value, data, predecessor, salt)``."""
    digest = keccak(
        encode(
            ["address", "uint256", "bytes", "bytes32", "bytes32"],
            [checksum(target), value, data, predecessor, salt],
        )
    )
    return Hash32("0x" + digest.hex())


def pack_multisend(calls: Sequence[tuple[str, int, bytes]]) -> bytes:
    """``MultiSendCallOnly.multiSend`` payload: per call ``uint8 op ‖ address ‖ uint256 value ‖
    uint256 len ‖ data``, packed (every call is a CALL: MultiSendCallOnly refuses delegatecalls)."""
    out = bytearray()
    for to, value, data in calls:
        out += b"\x00" + bytes.fromhex(checksum(to)[2:]) + value.to_bytes(32, "big")
        out += len(data).to_bytes(32, "big") + data
    return encode_call(MULTISEND_ABI, "multiSend", bytes(out))


async def view(client: ChainClient, to: str, abi: Sequence[Mapping[str, Any]], fn: str, *args: Any) -> Any:
    out = await client.call(TxRequest(to=checksum(to), data=encode_call(abi, fn, *args)), abi=abi)
    return decode_result(abi, fn, out, len(args))


async def is_paused(client: ChainClient, target: str) -> bool:
    """``paused()`` of an OpenZeppelin Pausable contract, by eth_call. An answer that is not an ABI
    bool raises :class:`ChainError`: whoever pauses or unpauses on it must not guess."""
    out = await client.call(TxRequest(to=checksum(target), data=_PAUSED_CALL))
    if len(out) != 32 or any(out[:31]) or out[31] > 1:
        raise ChainError(
            f"{target} answered paused() with {'0x' + out.hex() if out else 'nothing'}; "
            "is it a Pausable contract (and the right address)?"
        )
    return out[31] == 1


async def code_hash(client: ChainClient, address: str) -> Hash32:
    return Hash32("0x" + keccak(await client.get_code(checksum(address))).hex())
