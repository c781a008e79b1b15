"""The in-process EVM the behaviour check drives (pyrevm): a fresh chain per contract build with the
same actors, a probe contract (a forwarding caller, a reentrant fallback), the contract's functions
from its ABI, deployment with generated constructor arguments, and per-call outcomes (success,
return data, logs, storage slots of its layout, ETH balances)."""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from eth_abi.abi import encode as abi_encode
from eth_abi.exceptions import EncodingError
from eth_utils.crypto import keccak
from pyrevm import EVM, BlockEnv, CfgEnv, Env

from bulwark.toolchain.artifacts import ContractArtifact, StorageLayout

SEED = 18

CALL_GAS = 3_000_000  # per call: bounds an unbounded loop's cost
ETHER = 10**18

DEPLOYER = "0x" + "d0" * 20
ALICE = "0x" + "a1" * 20
BOB = "0x" + "b0" * 20
EVE = "0x" + "e0" * 20  # the EOA behind the forwarding contract
MALLORY = "0x" + "ba" * 20  # the synthesised attacker
PROBE_DEPLOYER = "0x" + "cc" * 20
EOAS = {"deployer": DEPLOYER, "alice": ALICE, "bob": BOB, "eve": EVE, "mallory": MALLORY}
_BLOCK = 19_000_000
_TIME = 1_700_000_000

PROBE_SOLC = "0.8.26"
# A contract actor: forwards calls (so msg.sender is a contract and tx.origin an EOA) and, once armed,
# re-enters the target from its fallback. Plain ETH with a 2300-gas stipend is accepted untouched.
PROBE_SOURCE = """// SPDX-License-Identifier: MIT
pragma solidity 0.8.26;

contract BulwarkProbe {
    address private target;
    bytes private reentry;
    uint256 private rounds;
    uint256 public reentered;

    function arm(address t, bytes calldata data, uint256 maxRounds) external {
        target = t;
        reentry = data;
        rounds = maxRounds;
        reentered = 0;
    }

    function forward(address to, bytes calldata data) external payable returns (bytes memory) {
        (bool ok, bytes memory ret) = to.call{value: msg.value}(data);
        if (!ok) {
            assembly {
                revert(add(ret, 32), mload(ret))
            }
        }
        return ret;
    }

    fallback() external payable {
        _reenter();
    }

    receive() external payable {
        _reenter();
    }

    function _reenter() private {
        if (gasleft() < 50000 || rounds == 0) return;
        rounds -= 1;
        (bool ok, ) = target.call(reentry);
        if (ok) reentered += 1;
    }
}
"""
_SEL_ARM = keccak(text="arm(address,bytes,uint256)")[:4]
_SEL_FORWARD = keccak(text="forward(address,bytes)")[:4]
_SEL_REENTERED = keccak(text="reentered()")[:4]


class Unusable(Exception):
    """The contract cannot be exercised here (no code, unlinked libraries, constructor reverts)."""


# What a check of one candidate may raise on a contract it cannot drive (an argument it cannot
# encode, an EVM error): the candidate is then reported as not checked, never dropped.
CHECK_ERRORS: tuple[type[Exception], ...] = (
    Unusable,
    EncodingError,
    ValueError,
    TypeError,
    OverflowError,
    RuntimeError,
)


@dataclass(frozen=True, slots=True)
class Fn:
    signature: str
    name: str
    selector: bytes
    inputs: tuple[str, ...]
    payable: bool
    view: bool


@dataclass(frozen=True, slots=True)
class Step:
    fn: Fn
    sender: str  # a key of EOAS, or "contract"
    args: tuple[object, ...]
    value: int
    boundary: bool  # an integer argument at its type's max or min


@dataclass(frozen=True, slots=True)
class Outcome:
    ok: bool
    output: bytes
    logs: tuple[tuple[str, str], ...]
    # what the call changed, not the state itself: a candidate whose constructor differs (a misnamed
    # constructor made one) starts from another state, and the same call must still change the same
    storage: tuple[tuple[int, int], ...]  # (probed slot index, new value) for each slot the call changed
    balances: tuple[tuple[int, int], ...]  # (watched account index, change in wei)

    @property
    def effect(self) -> bool:
        return bool(self.storage or self.balances)


def functions(art: ContractArtifact) -> list[Fn]:
    """The ABI's functions whose arguments can be generated (no tuples), in signature order."""
    out: list[Fn] = []
    for entry in art.abi:
        if entry.get("type") != "function":
            continue
        types = tuple(str(i.get("type")) for i in entry.get("inputs") or [])
        if any(t.startswith("tuple") for t in types):
            continue
        sig = f"{entry['name']}({','.join(types)})"
        if sig not in art.method_identifiers:
            continue
        mut = entry.get("stateMutability") or ("payable" if entry.get("payable") else "nonpayable")
        view = mut in ("view", "pure") or bool(entry.get("constant"))
        out.append(
            Fn(
                sig,
                str(entry["name"]),
                bytes.fromhex(art.method_identifiers[sig]),
                types,
                mut == "payable",
                view,
            )
        )
    return sorted(out, key=lambda f: f.signature)


def int_bits(t: str, prefix: str) -> int:
    return int(t[len(prefix) :] or 256)


def is_boundary(t: str, v: object) -> bool:
    if t.startswith("uint") and isinstance(v, int):
        return bool(v >= 2 ** (int_bits(t, "uint") - 1))
    if t.startswith("int") and isinstance(v, int):
        bits = int_bits(t, "int")
        return v in (-(2 ** (bits - 1)), 2 ** (bits - 1) - 1)
    if isinstance(v, list):
        base = t[: t.rindex("[")]
        return any(is_boundary(base, x) for x in v)
    return False


def abi_value(t: str, rng: random.Random, addrs: Sequence[str]) -> object:
    if t.endswith("]"):
        base, _, n = t[:-1].rpartition("[")
        count = int(n) if n else rng.randint(0, 3)
        return [abi_value(base, rng, addrs) for _ in range(count)]
    if t.startswith("uint"):
        bits = int_bits(t, "uint")
        return rng.choice(
            [0, 1, 2, 100, min(ETHER, 2**bits - 1), rng.randrange(min(2**bits, 10**6)), 2**bits - 1]
        )
    if t.startswith("int"):
        bits = int_bits(t, "int")
        return rng.choice(
            [0, 1, -1, 100, rng.randrange(-1000, 1000), 2 ** (bits - 1) - 1, -(2 ** (bits - 1))]
        )
    if t == "address":
        return rng.choice(addrs)
    if t == "bool":
        return rng.choice([True, False])
    if t.startswith("bytes") and t != "bytes":
        width = int(t[5:])
        return rng.choice([bytes(width), b"\x11" * width, rng.randbytes(width)])
    if t == "bytes":
        return rng.choice([b"", b"\x01\x02\x03", rng.randbytes(40)])
    if t == "string":
        return rng.choice(["", "bulwark"])
    raise Unusable(f"cannot generate a {t}")


def probe_slots(layout: StorageLayout | None, keys: Sequence[bytes]) -> list[int]:
    """Storage slots to compare: the layout's variables (and their entries for the actors' keys),
    or, before solc 0.5.13 (no layout output), the first slots and their entries."""

    def entry(key: bytes, slot: int) -> int:
        return int.from_bytes(keccak(key + slot.to_bytes(32, "big")), "big")

    def array(slot: int) -> list[int]:
        base = int.from_bytes(keccak(slot.to_bytes(32, "big")), "big")
        return [slot, *(base + i for i in range(4))]

    slots: list[int] = []
    if layout is None:
        for s in range(24):
            slots.append(s)
            slots.extend(entry(k, s) for k in keys)
            slots.extend(array(s)[1:3])
        return slots
    for var in layout.variables:
        t = layout.types.get(var.type)
        if t is None or t.encoding == "inplace":
            size = t.number_of_bytes if t is not None else 32
            slots.extend(range(var.slot, var.slot + min(max(1, (size + 31) // 32), 8)))
        elif t.encoding == "mapping":
            value = layout.types.get(t.value or "")
            width = min(max(1, ((value.number_of_bytes if value else 32) + 31) // 32), 4)
            for k in keys:
                base = entry(k, var.slot)
                slots.extend(range(base, base + width))
        elif t.encoding == "dynamic_array":
            slots.extend(array(var.slot))
        else:
            slots.append(var.slot)
    return slots


def _ctor_args(art: ContractArtifact) -> bytes:
    """Seeded, typical constructor arguments (the same for any build with the same parameter types)."""
    types = next(
        (
            [str(i.get("type")) for i in e.get("inputs") or []]
            for e in art.abi
            if e.get("type") == "constructor"
        ),
        [],
    )
    if not types:
        return b""
    rng = random.Random(f"{SEED}:ctor:{','.join(types)}")
    values = [ctor_value(t, rng) for t in types]
    return abi_encode(types, values)


def _ctor_payable(art: ContractArtifact) -> bool:
    for e in art.abi:
        if e.get("type") == "constructor":
            return bool(e.get("stateMutability") == "payable" or e.get("payable"))
    return False


def ctor_value(t: str, rng: random.Random) -> object:
    if t.endswith("]"):
        base, _, n = t[:-1].rpartition("[")
        return [ctor_value(base, rng) for _ in range(int(n) if n else 2)]
    if t.startswith(("uint", "int")):
        return 100
    if t == "address":
        return BOB
    if t == "bool":
        return True
    if t == "bytes":
        return b"\x01\x02"
    if t == "string":
        return "bulwark"
    if t.startswith("bytes"):
        return b"\x11" * int(t[5:])
    raise Unusable(f"cannot generate a constructor argument of type {t}")


class Chain:
    """One fresh EVM holding the actors, the probe contract and the contract under test."""

    def __init__(
        self, art: ContractArtifact, probe: bytes, slots_for: Callable[[str, str], list[int]]
    ) -> None:
        if not art.bytecode:
            raise Unusable("no creation code")
        # unoptimised builds of a large contract exceed the code size limits a deployment would meet
        cfg = CfgEnv(limit_contract_code_size=2**24)
        self.evm = EVM(env=Env(cfg=cfg, block=BlockEnv(number=_BLOCK, timestamp=_TIME)), spec_id="CANCUN")
        self.height = 0
        for addr in (*EOAS.values(), PROBE_DEPLOYER):
            self.evm.set_balance(addr, 10**24)
        try:
            self.probe = self.evm.deploy(PROBE_DEPLOYER, probe)
            # a payable constructor is funded (a prize pool, a sponsor's reserve): the same for every build
            value = 10 * ETHER if _ctor_payable(art) else 0
            self.victim = self.evm.deploy(
                DEPLOYER, art.bytecode + _ctor_args(art), value=value, gas=30_000_000
            )
        except RuntimeError as exc:
            raise Unusable(f"deploying it reverts ({str(exc)[:60]})") from exc
        self.slots = slots_for(self.victim, self.probe)
        self.watched = (*EOAS.values(), self.probe, self.victim)

    def _tick(self) -> None:
        self.height += 1
        self.evm.set_block_env(BlockEnv(number=_BLOCK + self.height, timestamp=_TIME + 13 * self.height))

    def raw(self, caller: str, to: str, data: bytes, value: int = 0) -> tuple[bool, bytes]:
        self._tick()
        try:
            return True, bytes(self.evm.message_call(caller, to, data, value=value, gas=CALL_GAS))
        except RuntimeError:
            return False, b""

    def state(self) -> tuple[tuple[int, ...], tuple[int, ...]]:
        storage = tuple(self.evm.storage(self.victim, s) for s in self.slots)
        return storage, tuple(self.evm.get_balance(a) for a in self.watched)

    def call(self, sender: str, data: bytes, value: int = 0) -> Outcome:
        storage, balances = self.state()
        if sender == "contract":
            wrapped = _SEL_FORWARD + abi_encode(["address", "bytes"], [self.victim, data])
            ok, out = self.raw(EVE, self.probe, wrapped, value)
        elif sender == "relay":  # the deployer's call relayed by a contract (tx.origin is the deployer)
            wrapped = _SEL_FORWARD + abi_encode(["address", "bytes"], [self.victim, data])
            ok, out = self.raw(DEPLOYER, self.probe, wrapped, value)
        else:
            ok, out = self.raw(EOAS[sender], self.victim, data, value)
        result = self.evm.result
        logs = tuple(
            (str(log.address).lower(), repr(log.data)) for log in (result.logs if ok and result else [])
        )
        storage_after, balances_after = self.state()
        changed = tuple((i, v) for i, (u, v) in enumerate(zip(storage, storage_after, strict=True)) if u != v)
        moved = tuple(
            (i, v - u) for i, (u, v) in enumerate(zip(balances, balances_after, strict=True)) if u != v
        )
        return Outcome(ok, out if ok else b"", logs, changed, moved)

    def arm(self, data: bytes, rounds: int) -> None:
        payload = _SEL_ARM + abi_encode(["address", "bytes", "uint256"], [self.victim, data, rounds])
        self.raw(EVE, self.probe, payload)

    def reentered(self) -> int:
        ok, out = self.raw(EVE, self.probe, _SEL_REENTERED)
        return int.from_bytes(out[:32], "big") if ok and out else 0


def encode(fn: Fn, args: Sequence[object]) -> bytes:
    return fn.selector + abi_encode(list(fn.inputs), list(args))
