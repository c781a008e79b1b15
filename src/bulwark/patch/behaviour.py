"""Behaviour kept, attack blocked: each candidate against the original in an in-process EVM (pyrevm).

Differential check: the original and the candidate are deployed alike (same deployer, same nonce,
same constructor arguments) and driven by the same seeded, ABI-built call sequences (several
senders including the deployer and a contract, boundary arguments, payable calls with value). Per
call the two must agree on success or revert, return data, logs, the contract's storage (the slots
of its storage layout, mapping entries of every actor) and the ETH balances. The first divergence
of a sequence is recorded (later calls run on diverged state and say nothing more). A divergence is
*expected* when it is a restriction on the flaw path: the candidate reverts where the original
succeeded, in a localised function (or, for an overflow fix, on a boundary argument). Anything else
is behaviour the candidate broke.

Generate and validate: with no exploit at hand, the attack's shape is synthesised from the
localisation and the class (a reentrant call back from a contract's fallback, a call from a
non-owner, an owner's call relayed through a contract, arithmetic boundaries, a second caller
getting in first). It must work on the original (else the check is inconclusive) and fail on the
candidate.

Everything is seeded, and bounded by counts (sequences, calls, gas per call), never by the clock, so
two runs rank candidates alike.
"""

from __future__ import annotations

import itertools
import random
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from eth_abi.abi import encode as abi_encode
from eth_abi.exceptions import EncodingError
from eth_utils.crypto import keccak
from pyrevm import EVM, BlockEnv, CfgEnv, Env

from bulwark.domain import VulnClass
from bulwark.domain.patch import AttackCheck, BehaviourChange, BehaviourCheck
from bulwark.toolchain.artifacts import ContractArtifact, StorageLayout

SEED = 18
SEQUENCES = 40  # call sequences per candidate
MAX_LENGTH = 6  # calls per sequence: 1..MAX_LENGTH
CALL_GAS = 3_000_000  # per call: bounds an unbounded loop's cost
MAX_REPORTED = 8  # behaviour changes kept per candidate
ARG_TRIES = 6  # argument choices tried per synthesised attack and function
ETHER = 10**18

DEPLOYER = "0x" + "d0" * 20
ALICE = "0x" + "a1" * 20
BOB = "0x" + "b0" * 20
EVE = "0x" + "e0" * 20  # the EOA behind the forwarding contract
MALLORY = "0x" + "ba" * 20  # the synthesised attacker
PROBE_DEPLOYER = "0x" + "cc" * 20
_EOAS = {"deployer": DEPLOYER, "alice": ALICE, "bob": BOB, "eve": EVE, "mallory": MALLORY}
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

_ATTACK_SHAPES: dict[VulnClass, str] = {
    VulnClass.REENTRANCY: "reentrancy",
    VulnClass.ACCESS_CONTROL: "non-owner",
    VulnClass.UNPROTECTED_SELFDESTRUCT: "non-owner",
    VulnClass.UNPROTECTED_DELEGATECALL: "non-owner",
    VulnClass.TX_ORIGIN: "tx-origin relay",
    VulnClass.INTEGER_OVERFLOW: "arithmetic boundary",
    VulnClass.FRONT_RUNNING: "race",
}


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
    sender: str  # a key of _EOAS, or "contract"
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


def _bits(t: str, prefix: str) -> int:
    return int(t[len(prefix) :] or 256)


def _boundary(t: str, v: object) -> bool:
    if t.startswith("uint") and isinstance(v, int):
        return bool(v >= 2 ** (_bits(t, "uint") - 1))
    if t.startswith("int") and isinstance(v, int):
        bits = _bits(t, "int")
        return v in (-(2 ** (bits - 1)), 2 ** (bits - 1) - 1)
    if isinstance(v, list):
        base = t[: t.rindex("[")]
        return any(_boundary(base, x) for x in v)
    return False


def _value(t: str, rng: random.Random, addrs: Sequence[str]) -> object:
    if t.endswith("]"):
        base, _, n = t[:-1].rpartition("[")
        count = int(n) if n else rng.randint(0, 3)
        return [_value(base, rng, addrs) for _ in range(count)]
    if t.startswith("uint"):
        bits = _bits(t, "uint")
        return rng.choice(
            [0, 1, 2, 100, min(ETHER, 2**bits - 1), rng.randrange(min(2**bits, 10**6)), 2**bits - 1]
        )
    if t.startswith("int"):
        bits = _bits(t, "int")
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


def _probe_slots(layout: StorageLayout | None, keys: Sequence[bytes]) -> list[int]:
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
    values = [_ctor_value(t, rng) for t in types]
    return abi_encode(types, values)


def _ctor_payable(art: ContractArtifact) -> bool:
    for e in art.abi:
        if e.get("type") == "constructor":
            return bool(e.get("stateMutability") == "payable" or e.get("payable"))
    return False


def _ctor_value(t: str, rng: random.Random) -> object:
    if t.endswith("]"):
        base, _, n = t[:-1].rpartition("[")
        return [_ctor_value(base, rng) for _ in range(int(n) if n else 2)]
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
        for addr in (*_EOAS.values(), PROBE_DEPLOYER):
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
        self.watched = (*_EOAS.values(), self.probe, self.victim)

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
            ok, out = self.raw(_EOAS[sender], self.victim, data, value)
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


class Checker:
    """The original's behaviour, computed once, against which each candidate is compared."""

    def __init__(
        self,
        original: ContractArtifact,
        probe: bytes,
        layout: StorageLayout | None,
        *,
        seed: int = SEED,
        sequences: int = SEQUENCES,
    ) -> None:
        if original.link_references.get("bytecode"):
            raise Unusable("it links libraries")
        self.original = original
        self.probe = probe
        self.layout = layout
        self.seed = seed
        self._slots: tuple[tuple[str, str], list[int]] | None = None
        self._align: tuple[Fn, ...] = ()
        first = self.chain(original)  # raises Unusable when the original cannot be deployed
        self.victim, self.probe_addr = first.victim, first.probe
        self.fns = functions(original)
        self.sequences = self._sequences(sequences)
        self._expected: dict[tuple[str, ...], list[list[Outcome]]] = {}

    def slots_for(self, victim: str, probe: str) -> list[int]:
        # every build deploys at the same addresses, so the slots are computed once
        if self._slots is None or self._slots[0] != (victim, probe):
            keys = [bytes(12) + bytes.fromhex(a[2:]) for a in (*_EOAS.values(), victim, probe)]
            keys += [i.to_bytes(32, "big") for i in range(4)]
            self._slots = ((victim, probe), _probe_slots(self.layout, keys))
        return self._slots[1]

    def chain(self, art: ContractArtifact) -> Chain:
        chain = Chain(art, self.probe, self.slots_for)
        if art is self.original:
            for fn in self._align:  # what the candidate's constructor now does, done by the deployer
                chain.call("deployer", encode(fn, [_ctor_value(t, random.Random(0)) for t in fn.inputs]))
        else:
            chain.height += len(self._align)  # both then run at the same block heights and times
        return chain

    def align(self, candidate: ContractArtifact) -> None:
        """A function the candidate drops (a misnamed constructor it made a constructor) is called
        by the deployer right after the original is deployed, so both start as their author meant."""
        self._align = tuple(
            f for f in self.fns if not f.view and f.signature not in candidate.method_identifiers
        )

    def _sequences(self, count: int) -> list[list[Step]]:
        rng = random.Random(self.seed)
        addrs = [*_EOAS.values(), self.victim, self.probe_addr, "0x" + "00" * 20]
        senders = ["deployer"] * 7 + ["alice"] * 5 + ["bob"] * 4 + ["contract"] * 4
        out: list[list[Step]] = []
        if not self.fns:
            return out
        for _ in range(count):
            seq: list[Step] = []
            for _ in range(rng.randint(1, MAX_LENGTH)):
                fn = rng.choice(self.fns)
                args = tuple(_value(t, rng, addrs) for t in fn.inputs)
                value = rng.choice([0, 1, ETHER]) if fn.payable else 0
                boundary = any(_boundary(t, v) for t, v in zip(fn.inputs, args, strict=True))
                seq.append(Step(fn, rng.choice(senders), args, value, boundary))
            out.append(seq)
        return out

    def _run(
        self, art: ContractArtifact, seq: Sequence[Step], stop: Sequence[Outcome] | None
    ) -> list[Outcome]:
        chain = self.chain(art)
        out: list[Outcome] = []
        for i, step in enumerate(seq):
            if step.fn.signature not in art.method_identifiers:
                break
            got = chain.call(step.sender, encode(step.fn, step.args), step.value)
            out.append(got)
            if stop is not None and (i >= len(stop) or _differs(stop[i], got)):
                break  # state diverged: later calls compare nothing
        return out

    def expected(self) -> list[list[Outcome]]:
        key = tuple(f.signature for f in self._align)
        if key not in self._expected:
            self._expected[key] = [self._run(self.original, seq, None) for seq in self.sequences]
        return self._expected[key]

    def behaviour(
        self,
        candidate: ContractArtifact,
        flaw: set[str],
        vuln: VulnClass,
        edited: frozenset[str] = frozenset(),
    ) -> BehaviourCheck:
        """Run every sequence on the candidate; report the first divergence of each. ``edited``: the
        functions the patch edits; a view among them answering differently is the fix (a digest that
        now binds the contract), not a broken behaviour."""
        self.align(candidate)
        try:
            self.chain(candidate)
        except Unusable as exc:
            return BehaviourCheck(False, f"not checked: the candidate cannot be exercised: {exc}")
        changes: list[BehaviourChange] = []
        seen: set[tuple[str, str, str, bool]] = set()
        calls = 0
        for seq, want in zip(self.sequences, self.expected(), strict=True):
            got = self._run(candidate, seq, want)
            calls += len(got)
            for step, a, b in zip(seq, want, got, strict=False):
                what = _differs(a, b)
                if what is None:
                    continue
                expected = (
                    what == "reverts"
                    and (step.fn.name in flaw or (vuln is VulnClass.INTEGER_OVERFLOW and step.boundary))
                ) or (
                    step.fn.name in flaw | edited
                    # a view the fix edits answers differently (a digest now bound to the contract)
                    and (step.fn.view or (vuln is VulnClass.TX_ORIGIN and step.sender == "contract"))
                )  # ... and a contract's call sees msg.sender where it saw tx.origin
                key = (step.fn.signature, step.sender, what, expected)
                if key not in seen:
                    seen.add(key)
                    changes.append(
                        BehaviourChange(step.fn.signature, step.sender, what, expected, _detail(step))
                    )
                break
        changes.sort(key=lambda c: (c.expected, c.function, c.sender, c.what))  # unexpected first
        note = (
            f"{len(self.sequences)} seeded call sequences ({calls} calls, senders deployer/alice/bob/a "
            f"contract) in an in-process EVM (pyrevm, Cancun), compared per call on success, return data, "
            f"logs, storage and ETH balances"
        )
        return BehaviourCheck(True, note, len(self.sequences), calls, tuple(changes[:MAX_REPORTED]))

    def attack(
        self,
        candidate: ContractArtifact,
        flaw: Iterable[str],
        vuln: VulnClass,
        edited: frozenset[str] = frozenset(),
    ) -> AttackCheck:
        """The attack's shape for ``vuln`` against the localised functions (or, when the flaw is in a
        modifier or an internal function, against the entry points the patch edits)."""
        shape = _ATTACK_SHAPES.get(vuln)
        if shape is None:
            return AttackCheck("none", "inconclusive", f"no attack shape is synthesised for {vuln.value}")
        names = set(flaw)
        targets = [f for f in self.fns if f.name in names and not f.view]
        targets = targets or [f for f in self.fns if f.name in edited and not f.view]
        if not targets:
            return AttackCheck(shape, "inconclusive", "the localised function is not an external entry point")
        self.align(candidate)
        try:
            self.chain(candidate)
        except Unusable as exc:
            return AttackCheck(shape, "inconclusive", f"the candidate cannot be exercised: {exc}")
        if shape == "reentrancy":
            return self._reentrancy(candidate, targets)
        if shape == "arithmetic boundary":
            return self._boundary(candidate, targets)
        return self._caller(candidate, targets, shape)

    # -- synthesised attacks ---------------------------------------------------------------------

    def _fund(self, chain: Chain, *, probe: bool = False) -> None:
        """Other users (and the attacker's contract) put value in through every payable function."""
        chain.raw(DEPLOYER, chain.victim, b"", ETHER)  # a plain transfer, where it is accepted
        actors: list[tuple[str, str]] = [("deployer", DEPLOYER), ("alice", ALICE)]
        if probe:
            actors.append(("contract", chain.probe))
        for fn in [f for f in self.fns if f.payable and not f.view][:4]:
            for role, addr in actors:
                try:
                    args = [_plain(t, addr) for t in fn.inputs]
                except Unusable:
                    break
                chain.call(role, encode(fn, args), ETHER)

    def _choices(self, fn: Fn, who: str, pools: Callable[[str, str], list[object]]) -> list[list[object]]:
        try:
            combos = list(itertools.islice(itertools.product(*(pools(t, who) for t in fn.inputs)), 64))
        except Unusable:
            return []
        rng = random.Random(f"{self.seed}:{fn.signature}")
        if len(combos) > ARG_TRIES:
            combos = combos[:1] + rng.sample(combos[1:], ARG_TRIES - 1)
        return [list(c) for c in combos]

    def _reentrancy(self, candidate: ContractArtifact, targets: list[Fn]) -> AttackCheck:
        others = [f for f in self.fns if not f.view]

        def run(art: ContractArtifact, data: bytes, reentry: bytes) -> tuple[bool, int, int]:
            chain = self.chain(art)
            self._fund(chain, probe=True)
            chain.arm(reentry, 2)
            before = chain.evm.get_balance(chain.probe)
            got = chain.call("contract", data)
            return got.ok, chain.reentered(), chain.evm.get_balance(chain.probe) - before

        for fn in targets:
            for args in self._choices(fn, self.probe_addr, _amounts):
                data = encode(fn, args)
                # re-enter the same call first, then the other entry points sharing its state
                reentries = [data] + [
                    encode(fn2, a)
                    for fn2 in others
                    if fn2 is not fn
                    for a in self._choices(fn2, ALICE, _amounts)[:1]
                ]
                for reentry in reentries[:6]:
                    ok, count, gain = run(self.original, data, reentry)
                    if not ok or count == 0:
                        continue
                    c_ok, c_count, c_gain = run(candidate, data, reentry)
                    blocked = not c_ok or c_count == 0 or c_gain < gain
                    what = f"{fn.signature} called by a contract whose fallback re-enters"
                    if blocked:
                        how = (
                            "the call reverts" if not c_ok else f"re-entered {c_count}x, gained {c_gain} wei"
                        )
                        return AttackCheck(
                            "reentrancy",
                            "blocked",
                            f"{what}: original re-entered {count}x and gained {gain} wei; candidate: {how}",
                        )
                    return AttackCheck(
                        "reentrancy",
                        "not-blocked",
                        f"{what}: the candidate is re-entered "
                        f"{c_count}x as the original is, gaining {c_gain} wei",
                    )
        return AttackCheck("reentrancy", "inconclusive", "no synthesised re-entry succeeds on the original")

    def _caller(self, candidate: ContractArtifact, targets: list[Fn], shape: str) -> AttackCheck:
        """A call the original lets through with an effect: from a non-owner, relayed from the
        owner through a contract (tx.origin), or a second caller getting in before the deployer."""
        sender = "relay" if shape == "tx-origin relay" else "mallory"
        who = self.probe_addr if sender == "relay" else MALLORY

        def run(art: ContractArtifact, data: bytes) -> tuple[bool, bool]:
            chain = self.chain(art)
            self._fund(chain)
            got = chain.call(sender, data)
            return got.ok, got.ok and got.effect

        viable = blocked = 0
        first = ""
        for fn in targets:
            for args in self._choices(fn, who, _attacker_args):
                data = encode(fn, args)
                ok, effect = run(self.original, data)
                if not (ok and effect):
                    continue
                viable += 1
                c_ok, c_effect = run(candidate, data)
                if not c_ok or not c_effect:
                    blocked += 1
                elif not first:
                    first = fn.signature
        what = {
            "non-owner": "a call from a non-owner",
            "race": "a second caller getting in first",
            "tx-origin relay": "the owner's call relayed by a contract",
        }[shape]
        if not viable:
            return AttackCheck(shape, "inconclusive", f"{what} has no effect on the original")
        if blocked == viable:
            return AttackCheck(
                shape,
                "blocked",
                f"{what} changed the original's state {viable}x; "
                "the candidate reverts it or it has no effect",
            )
        return AttackCheck(
            shape,
            "not-blocked",
            f"{what} to {first} still changes the candidate's state ({viable - blocked} of {viable} tries)",
        )

    def _boundary(self, candidate: ContractArtifact, targets: list[Fn]) -> AttackCheck:
        def run(art: ContractArtifact, sender: str, data: bytes) -> tuple[bool, object]:
            """The boundary call, twice: an accumulator (a lock time, a balance) wraps on the second."""
            chain = self.chain(art)
            self._fund(chain)
            got = [chain.call(sender, data) for _ in range(2)]
            return any(g.ok for g in got), [(g.ok, g.storage, g.balances) for g in got]

        viable = blocked = 0
        for fn in targets:
            for sender, who in (("mallory", MALLORY), ("deployer", DEPLOYER)):
                for args in self._choices(fn, who, _boundaries):
                    if not any(_boundary(t, v) for t, v in zip(fn.inputs, args, strict=True)):
                        continue  # a small value is no overflow attack, whatever it does
                    data = encode(fn, args)
                    ok, state = run(self.original, sender, data)
                    if not ok:
                        continue
                    viable += 1
                    _, c_state = run(candidate, sender, data)
                    blocked += int(c_state != state)
        if not viable:
            return AttackCheck(
                "arithmetic boundary", "inconclusive", "no boundary call succeeds on the original"
            )
        if blocked:
            return AttackCheck(
                "arithmetic boundary",
                "blocked",
                f"{blocked} of {viable} boundary calls that "
                "the original accepts are refused or end differently",
            )
        return AttackCheck(
            "arithmetic boundary",
            "not-blocked",
            f"all {viable} boundary calls the original accepts end the same on the candidate",
        )


def _differs(a: Outcome, b: Outcome) -> str | None:
    if a.ok != b.ok:
        return "reverts" if a.ok else "succeeds"
    if not a.ok:
        return None  # both revert: revert reasons may differ by design
    if a.output != b.output:
        return "return data"
    if a.logs != b.logs:
        return "logs"
    if a.storage != b.storage:
        return "storage"
    if a.balances != b.balances:
        return "balance"
    return None


def _detail(step: Step) -> str:
    args = ", ".join(_short(a) for a in step.args)
    value = f" with {step.value} wei" if step.value else ""
    return f"{step.fn.name}({args}){value}"


def _short(v: object) -> str:
    if isinstance(v, bytes):
        return "0x" + v.hex()[:16]
    if isinstance(v, list):
        return "[" + ", ".join(_short(x) for x in v) + "]"
    text = str(v)
    return text if len(text) <= 20 else text[:8] + "..." + text[-6:]


def _fit(t: str, v: int) -> int:
    """``v`` clamped to what the integer type ``t`` can hold."""
    if t.startswith("uint"):
        return min(max(v, 0), (1 << _bits(t, "uint")) - 1)
    half = 1 << (_bits(t, "int") - 1)
    return min(max(v, -half), half - 1)


def _array(t: str, who: str, pools: Callable[[str, str], list[object]]) -> list[object] | None:
    """Values of an array type from its element's pool: empty when dynamic, filled when fixed."""
    if not t.endswith("]"):
        return None
    base, _, n = t[:-1].rpartition("[")
    if not n:
        return [[]]
    return [[v] * int(n) for v in pools(base, who)[:2]]


def _plain(t: str, who: str) -> object:
    """A deposit's typical argument: the actor itself, one ether, true."""
    if t.endswith("]"):
        base, _, n = t[:-1].rpartition("[")
        return [_plain(base, who)] * int(n) if n else []
    if t.startswith(("uint", "int")):
        return _fit(t, ETHER)
    if t == "address":
        return who
    if t == "bool":
        return True
    if t in ("bytes", "string"):
        return b"" if t == "bytes" else ""
    if t.startswith("bytes"):
        return bytes(int(t[5:]))
    raise Unusable(f"no plain value for {t}")


def _amounts(t: str, who: str) -> list[object]:
    if (arr := _array(t, who, _amounts)) is not None:
        return arr
    if t.startswith(("uint", "int")) and not t.endswith("]"):
        return [_fit(t, ETHER), 0, 1]
    return [_plain(t, who)]


def _attacker_args(t: str, who: str) -> list[object]:
    if t == "address":
        return [who, ALICE]
    if t == "address[]":
        return [[who]]
    if (arr := _array(t, who, _attacker_args)) is not None:
        return arr
    if t.startswith(("uint", "int")) and not t.endswith("]"):
        return [1, 0, _fit(t, ETHER)]
    if t == "bool":
        return [True, False]
    return [_plain(t, who)]


def _boundaries(t: str, who: str) -> list[object]:
    if t == "address[]":  # distinct receivers: a repeated one can overflow its own balance first
        return [[ALICE, BOB], [ALICE, who]]
    if t.endswith("[]"):
        base = t[:-2]
        return [[x, x] for x in _boundaries(base, who)[:2]]
    if (arr := _array(t, who, _boundaries)) is not None:
        return arr
    if t.startswith("uint"):
        bits = _bits(t, "uint")
        return [2**bits - 1, 2 ** (bits - 1), 2]
    if t.startswith("int"):
        bits = _bits(t, "int")
        return [-(2 ** (bits - 1)), 2 ** (bits - 1) - 1, -1]
    if t == "address":
        return [ALICE, who]
    return [_plain(t, who)]
