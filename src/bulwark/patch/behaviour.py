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

from bulwark.domain import VulnClass
from bulwark.domain.patch import AttackCheck, BehaviourChange, BehaviourCheck
from bulwark.patch.evm import (
    ALICE,
    BOB,
    DEPLOYER,
    EOAS,
    ETHER,
    MALLORY,
    SEED,
    Chain,
    Fn,
    Outcome,
    Step,
    Unusable,
    abi_value,
    ctor_value,
    encode,
    functions,
    int_bits,
    is_boundary,
    probe_slots,
)
from bulwark.toolchain.artifacts import ContractArtifact, StorageLayout

SEQUENCES = 40  # call sequences per candidate
MAX_LENGTH = 6  # calls per sequence: 1..MAX_LENGTH
MAX_REPORTED = 8  # behaviour changes kept per candidate
ARG_TRIES = 6  # argument choices tried per synthesised attack and function
SANDWICH_AHEAD = 10 * ETHER  # the trade placed ahead of an ordinary one-ether trade

_ATTACK_SHAPES: dict[VulnClass, str] = {
    VulnClass.REENTRANCY: "reentrancy",
    VulnClass.ACCESS_CONTROL: "non-owner",
    VulnClass.UNPROTECTED_SELFDESTRUCT: "non-owner",
    VulnClass.UNPROTECTED_DELEGATECALL: "non-owner",
    VulnClass.TX_ORIGIN: "tx-origin relay",
    VulnClass.INTEGER_OVERFLOW: "arithmetic boundary",
    VulnClass.FRONT_RUNNING: "race",
}


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
            keys = [bytes(12) + bytes.fromhex(a[2:]) for a in (*EOAS.values(), victim, probe)]
            keys += [i.to_bytes(32, "big") for i in range(4)]
            self._slots = ((victim, probe), probe_slots(self.layout, keys))
        return self._slots[1]

    def chain(self, art: ContractArtifact) -> Chain:
        chain = Chain(art, self.probe, self.slots_for)
        if art is self.original:
            for fn in self._align:  # what the candidate's constructor now does, done by the deployer
                chain.call("deployer", encode(fn, [ctor_value(t, random.Random(0)) for t in fn.inputs]))
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
        addrs = [*EOAS.values(), self.victim, self.probe_addr, "0x" + "00" * 20]
        senders = ["deployer"] * 7 + ["alice"] * 5 + ["bob"] * 4 + ["contract"] * 4
        out: list[list[Step]] = []
        if not self.fns:
            return out
        for _ in range(count):
            seq: list[Step] = []
            for _ in range(rng.randint(1, MAX_LENGTH)):
                fn = rng.choice(self.fns)
                args = tuple(abi_value(t, rng, addrs) for t in fn.inputs)
                value = rng.choice([0, 1, ETHER]) if fn.payable else 0
                boundary = any(is_boundary(t, v) for t, v in zip(fn.inputs, args, strict=True))
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
        also: frozenset[VulnClass] = frozenset(),
    ) -> BehaviourCheck:
        """Run every sequence on the candidate; report the first divergence of each. ``edited``: the
        functions the patch edits; a view among them answering differently is the fix (a digest that
        now binds the contract), not a broken behaviour. ``also``: the classes of the other findings
        the patch fixes with ``vuln``'s."""
        order_fix = VulnClass.FRONT_RUNNING in also | {vuln}
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
                    (
                        what == "reverts"
                        and (step.fn.name in flaw or (vuln is VulnClass.INTEGER_OVERFLOW and step.boundary))
                    )
                    or (
                        # a view the fix edits answers differently (a digest now bound to the contract),
                        # and a contract's call sees msg.sender where it saw tx.origin
                        step.fn.name in flaw | edited
                        and (step.fn.view or (vuln is VulnClass.TX_ORIGIN and step.sender == "contract"))
                    )
                    # a transaction-order fix changes when an edited function's effect lands (a rate
                    # change scheduled for later), and so what a call right after it gets
                    or (order_fix and step.fn.name in flaw | edited)
                )
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
        found = self._caller(candidate, targets, shape)
        if vuln is VulnClass.FRONT_RUNNING and found.outcome == "inconclusive":
            # nobody gets in first on an open entry: a trade placed ahead of another may still price it
            sandwich = self._sandwich(candidate, targets)
            return sandwich if sandwich.outcome != "inconclusive" else found
        return found

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

    def _sandwich(self, candidate: ContractArtifact, targets: list[Fn]) -> AttackCheck:
        """A large trade placed ahead of an ordinary one through a payable entry: on the original the
        ordinary trade comes out differently (a price moved by the trade ahead of it); the candidate
        must refuse one of the two, or give the ordinary trade what it gets with nobody ahead."""

        def run(art: ContractArtifact, data: bytes, ahead: bool) -> tuple[bool, Outcome]:
            chain = self.chain(art)
            self._fund(chain)
            first = chain.call("mallory", data, SANDWICH_AHEAD).ok if ahead else True
            return first, chain.call("alice", data, ETHER)

        viable = blocked = 0
        first_open = ""
        for fn in (f for f in targets if f.payable):
            try:
                data = encode(fn, [_plain(t, ALICE) for t in fn.inputs])
            except Unusable:
                continue
            _, alone = run(self.original, data, ahead=False)
            ok, moved = run(self.original, data, ahead=True)
            if not (alone.ok and ok and moved.ok) or _differs(alone, moved) is None:
                continue  # the trade ahead does not change what the ordinary one gets
            viable += 1
            _, c_alone = run(candidate, data, ahead=False)
            c_ok, c_moved = run(candidate, data, ahead=True)
            if not c_ok or not c_moved.ok or _differs(c_alone, c_moved) is None:
                blocked += 1
            elif not first_open:
                first_open = fn.signature
        what = "a large trade placed ahead of an ordinary one"
        if not viable:
            return AttackCheck("sandwich", "inconclusive", f"{what} changes nothing on the original")
        if blocked == viable:
            return AttackCheck(
                "sandwich", "blocked", f"{what} moved the original's price; the candidate refuses it"
            )
        return AttackCheck("sandwich", "not-blocked", f"{what} still moves the price of {first_open}")

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
                    if not any(is_boundary(t, v) for t, v in zip(fn.inputs, args, strict=True)):
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
        return min(max(v, 0), (1 << int_bits(t, "uint")) - 1)
    half = 1 << (int_bits(t, "int") - 1)
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
        bits = int_bits(t, "uint")
        return [2**bits - 1, 2 ** (bits - 1), 2]
    if t.startswith("int"):
        bits = int_bits(t, "int")
        return [-(2 ** (bits - 1)), 2 ** (bits - 1) - 1, -1]
    if t == "address":
        return [ALICE, who]
    return [_plain(t, who)]
