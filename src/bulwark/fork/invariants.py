"""Declared invariants, checked on a fork and under a short, seeded stateful fuzz (hypothesis).

An invariant compares uint results of view calls (``lhs op rhs``, see
:class:`bulwark.domain.verify.Invariant`). The fuzz is a ``RuleBasedStateMachine`` with two rules,
interleaved by hypothesis:

- *replay* one of the given benign actions (sender, target, calldata), with one amount-looking
  argument word possibly rescaled;
- *call* a state-changing function of a fuzz target (its ABI: the candidate at the proxy) or of an
  ERC-20 among the known contracts (found by answering ``totalSupply()``), from one of several
  senders (the benign senders and a funded stranger), arguments drawn by type: addresses from the
  known actors and contracts, amounts around the holders' token balances and the type's bounds.

Each step is mined and every invariant checked; each example starts from an EVM snapshot and is
reverted afterwards. The run is seeded (``seed``, never the wall clock), bounded (examples x
steps), has no deadline and no example database, and the pools it draws from are sorted, so the
same fork and seed give the same calls, the same results and the same evidence hash -- whatever
order the benign transactions arrived in.

Hypothesis drives a synchronous loop, so this module talks to the fork over a small synchronous
JSON-RPC client; the engine runs it in a worker thread.
"""

from __future__ import annotations

import hashlib
import operator
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from eth_abi.abi import decode, encode
from eth_abi.grammar import ABIType, BasicType, TupleType, parse
from eth_utils.address import to_checksum_address
from eth_utils.crypto import keccak
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import seed as hypothesis_seed
from hypothesis import strategies as st

from bulwark.chain.abi import input_types
from bulwark.chain.sync import SyncClient
from bulwark.config.invariants import FuzzConfig
from bulwark.domain.verify import Invariant, InvariantResult, ViewCall
from bulwark.errors import ChainError, RpcUnreachable
from bulwark.fork.session import VerifyError

__all__ = [
    "DEFAULT_EXAMPLES",
    "DEFAULT_SEED",
    "DEFAULT_STEPS",
    "STRANGER",
    "Action",
    "Rpc",
    "SyncRpc",
    "Target",
    "check_invariants",
    "evaluate",
    "fuzz_invariants",
]

_DEFAULTS = FuzzConfig()  # one set of defaults: the configuration's
DEFAULT_SEED, DEFAULT_EXAMPLES, DEFAULT_STEPS = _DEFAULTS.seed, _DEFAULTS.examples, _DEFAULTS.steps
# A sender no benign transaction came from: funded with ETH on the fork, holds nothing else.
STRANGER = to_checksum_address("0x" + hashlib.sha256(b"bulwark.verify.fuzz-stranger").hexdigest()[:40])
_ZERO = "0x" + "00" * 20
_GAS = 5_000_000
_ETH = 10**18
# ERC-20 writes, fuzzed on every known contract that answers totalSupply() (tokens the
# protocol holds or issues): moving tokens around is what most false invariants miss.
_ERC20_WRITES = (
    ("transfer", ("address", "uint256")),
    ("approve", ("address", "uint256")),
    ("transferFrom", ("address", "address", "uint256")),
)

_OPS: dict[str, Callable[[int, int], bool]] = {
    ">=": operator.ge,
    "<=": operator.le,
    "==": operator.eq,
    ">": operator.gt,
    "<": operator.lt,
}


class Rpc(Protocol):
    def __call__(self, method: str, *params: Any) -> Any: ...


@dataclass(frozen=True, slots=True)
class Action:
    """A recorded call to replay (a benign transaction)."""

    sender: str
    to: str
    data: bytes
    value: int = 0


@dataclass(frozen=True, slots=True)
class Target:
    """A contract whose state-changing functions the fuzz calls, with its ABI."""

    address: str
    abi: Sequence[Mapping[str, Any]]


@dataclass(frozen=True, slots=True, order=True)
class _Function:
    address: str
    name: str
    inputs: tuple[str, ...]
    payable: bool

    @property
    def selector(self) -> bytes:
        return keccak(text=f"{self.name}({','.join(self.inputs)})")[:4]


class SyncRpc:
    """The fuzz's calls, through the one chain client (its synchronous face): a call the node
    refuses or that reverts is a :class:`VerifyError`; an unreachable node stays an error of
    its own (it is no refused step)."""

    def __init__(self, url: str) -> None:
        self._client = SyncClient(url, timeout_s=60.0)

    def __call__(self, method: str, *params: Any) -> Any:
        try:
            return self._client.request(method, params)
        except RpcUnreachable:
            raise
        except ChainError as exc:
            raise VerifyError(exc.user_message) from None

    def close(self) -> None:
        self._client.close()


def _split(signature: str) -> tuple[str, list[str], list[str]]:
    """``"f(address,uint256)(uint256)"`` -> ("f", ["address", "uint256"], ["uint256"])."""
    name, rest = signature.split("(", 1)
    depth, cut = 1, 0
    for i, ch in enumerate(rest):
        depth += {"(": 1, ")": -1}.get(ch, 0)
        if depth == 0:
            cut = i
            break
    inputs = [t for t in rest[:cut].split(",") if t]
    outs = rest[cut + 1 :].strip()
    outputs = [t for t in outs.strip("()").split(",") if t] or ["uint256"]
    return name, inputs, outputs


def view(rpc: Rpc, call: ViewCall) -> int:
    name, inputs, outputs = _split(call.signature)
    selector = keccak(text=f"{name}({','.join(inputs)})")[:4]
    data = selector + encode(inputs, list(call.args))
    raw = rpc("eth_call", {"to": call.address, "data": "0x" + data.hex()}, "latest")
    value = decode(outputs, bytes.fromhex(str(raw)[2:]))[0]
    return int(value)


def evaluate(rpc: Rpc, inv: Invariant) -> tuple[bool, str]:
    if inv.op not in _OPS:
        raise VerifyError(f"invariant {inv.name}: unknown operator {inv.op!r} (use one of {', '.join(_OPS)})")
    try:
        lhs = view(rpc, inv.lhs) * inv.scale
        rhs = inv.rhs if isinstance(inv.rhs, int) else view(rpc, inv.rhs)
    except VerifyError as exc:
        return False, f"a view call reverted: {exc}"
    ok = _OPS[inv.op](lhs, rhs)
    return ok, f"{lhs} {inv.op} {rhs}"


def check_invariants(url: str, invariants: Sequence[Invariant]) -> tuple[InvariantResult, ...]:
    rpc = SyncRpc(url)
    try:
        out = []
        for inv in invariants:
            ok, detail = evaluate(rpc, inv)
            out.append(InvariantResult(inv.name, ok, 1, "" if ok else detail))
        return tuple(out)
    finally:
        rpc.close()


def _rescale(data: bytes, word: int, factor: int) -> bytes:
    start = 4 + 32 * word
    if len(data) < start + 32:
        return data
    value = int.from_bytes(data[start : start + 32], "big")
    if value == 0 or value >= 2**128:  # addresses, flags and huge words are not amounts
        return data
    new = value * factor // 4
    return data[:start] + new.to_bytes(32, "big") + data[start + 32 :]


# -- what the generated calls draw from ---------------------------------------------------------


def _functions(targets: Sequence[Target], tokens: Sequence[str]) -> list[_Function]:
    """Every state-changing function of the targets, and the ERC-20 writes of the tokens."""
    found: dict[tuple[str, bytes], _Function] = {}
    for target in targets:
        address = to_checksum_address(target.address)
        for entry in target.abi:
            if entry.get("type") != "function" or entry.get("stateMutability") in ("view", "pure"):
                continue
            fn = _Function(
                address,
                str(entry["name"]),
                tuple(input_types(entry)),
                entry.get("stateMutability") == "payable",
            )
            found.setdefault((address, fn.selector), fn)
    for token in tokens:
        for name, inputs in _ERC20_WRITES:
            fn = _Function(to_checksum_address(token), name, inputs, False)
            found.setdefault((fn.address, fn.selector), fn)
    return sorted(found.values())


def _word(rpc: Rpc, to: str, data: bytes) -> int | None:
    """A view's uint answer, or None when the contract does not answer it (reverts, no code)."""
    try:
        raw = str(rpc("eth_call", {"to": to, "data": "0x" + data.hex()}, "latest"))
    except VerifyError:
        return None
    return int(raw, 16) if len(raw) == 66 else None


def _balances(rpc: Rpc, tokens: Sequence[str], holders: Sequence[str]) -> dict[str, list[int]]:
    """Each holder's non-zero token balances (read once, before the fuzz)."""
    balance_of = keccak(text="balanceOf(address)")[:4]
    out: dict[str, list[int]] = {}
    for holder in holders:
        found = (_word(rpc, t, balance_of + encode(["address"], [holder])) for t in tokens)
        out[holder] = sorted({b for b in found if b})
    return out


def _amounts(balances: Mapping[str, Sequence[int]], actions: Sequence[Action]) -> list[int]:
    """Amounts worth trying for anyone: small numbers, every balance (and half, and one more),
    and the amounts the benign calls used; each type's bounds are added per type."""
    out = {0, 1, 2, 10**6, _ETH}
    for held in balances.values():
        for b in held:
            out |= {b, b // 2, b + 1}
    for a in actions:
        for start in range(4, len(a.data) - 31, 32):
            word = int.from_bytes(a.data[start : start + 32], "big")
            if 0 < word < 2**128:
                out.add(word)
    return sorted(out)


def _own(held: Sequence[int]) -> list[int]:
    """Amounts the sender can afford: all, half, a tenth of each of its balances."""
    return sorted({x for b in held for x in (b, b // 2, b // 10) if x})


def _strategy(
    t: ABIType, addresses: Sequence[str], own: Sequence[int], amounts: Sequence[int]
) -> st.SearchStrategy[Any]:
    """Values of ABI type ``t``: known addresses; for integers, first what the sender holds
    (``own``), then amounts seen anywhere and the type's bounds, then any value."""
    if t.arrlist:
        item = _strategy(t.item_type, addresses, own, amounts)
        last = t.arrlist[-1]
        return st.lists(item, min_size=last[0], max_size=last[0]) if last else st.lists(item, max_size=3)
    if isinstance(t, TupleType):
        return st.tuples(*(_strategy(c, addresses, own, amounts) for c in t.components))
    if not isinstance(t, BasicType):
        raise VerifyError(f"the fuzz cannot generate values of ABI type {t!r}")
    if t.base == "address":
        return st.sampled_from(addresses)
    if t.base == "bool":
        return st.booleans()
    if t.base == "uint":
        top = 2 ** int(t.sub) - 1
        special = sorted({a for a in amounts if a <= top} | {top})
        affordable = [a for a in own if a <= top]
        return st.one_of(
            *([st.sampled_from(affordable)] if affordable else []),
            st.sampled_from(special),
            st.integers(0, top),
        )
    if t.base == "int":
        half = 2 ** (int(t.sub) - 1)
        special = sorted({a for a in amounts if a < half} | {-1, -half, half - 1})
        return st.one_of(st.sampled_from(special), st.integers(-half, half - 1))
    if t.base == "bytes" and t.sub is not None:
        size = int(t.sub)
        return st.binary(min_size=size, max_size=size)
    if t.base == "bytes":
        return st.binary(max_size=64)
    if t.base == "function":  # an external function pointer: address + selector
        return st.binary(min_size=24, max_size=24)
    if t.base == "string":
        return st.text(max_size=32)
    raise VerifyError(f"the fuzz cannot generate values of ABI type {t.to_type_str()!r}")  # type: ignore[no-untyped-call]


def _show(value: Any) -> str:
    if isinstance(value, bytes):
        return "0x" + value.hex()
    if isinstance(value, list | tuple):
        return "[" + ",".join(_show(v) for v in value) + "]"
    return str(value)


def fuzz_invariants(
    rpc_or_url: str | Rpc,
    invariants: Sequence[Invariant],
    actions: Sequence[Action],
    *,
    targets: Sequence[Target] = (),
    contracts: Sequence[str] = (),
    actors: Sequence[str] = (),
    seed: int = DEFAULT_SEED,
    examples: int = DEFAULT_EXAMPLES,
    steps: int = DEFAULT_STEPS,
) -> tuple[InvariantResult, ...]:
    """Run the fuzz; one result per invariant (the first violation found, if any).

    ``actions`` are replayed; ``targets`` (and ERC-20s among ``contracts``, the targets and the
    invariants' contracts) are called with generated arguments, from the actions' senders, the
    ``actors`` and :data:`STRANGER`. ``seed`` fixes every choice.
    """
    if not invariants:
        return ()
    if isinstance(rpc_or_url, str):
        rpc = SyncRpc(rpc_or_url)
        try:
            return fuzz_invariants(
                rpc, invariants, actions, targets=targets, contracts=contracts, actors=actors, seed=seed,
                examples=examples, steps=steps,
            )  # fmt: skip
        finally:
            rpc.close()
    return _fuzz(rpc_or_url, invariants, actions, targets, contracts, actors, seed, examples, steps)


def _fuzz(
    rpc: Rpc,
    invariants: Sequence[Invariant],
    actions: Sequence[Action],
    targets: Sequence[Target],
    contracts: Sequence[str],
    actors: Sequence[str],
    seed: int,
    examples: int,
    steps: int,
) -> tuple[InvariantResult, ...]:
    # Sorted pools: the draws depend on the set of benign calls, not on the order in which the
    # live chain happened to mine them (equal-tip transactions land in arrival order).
    acts = sorted(
        {Action(to_checksum_address(a.sender), to_checksum_address(a.to), a.data, a.value) for a in actions},
        key=lambda a: (a.to.lower(), a.data, a.sender.lower(), a.value),
    )
    senders = sorted({to_checksum_address(a) for a in [*(a.sender for a in acts), *actors, STRANGER]})
    known = {to_checksum_address(c) for c in contracts}
    known |= {to_checksum_address(t.address) for t in targets}
    for inv in invariants:
        for call in (inv.lhs, inv.rhs):
            if isinstance(call, ViewCall):
                known.add(to_checksum_address(call.address))
    contracts_sorted = sorted(known)
    total_supply = keccak(text="totalSupply()")[:4]
    tokens = [c for c in contracts_sorted if _word(rpc, c, total_supply) is not None]
    functions = _functions(targets, tokens)
    addresses = [*sorted(set(senders) | known), _ZERO]
    balances = _balances(rpc, tokens, [*senders, *contracts_sorted])
    amounts = _amounts(balances, acts)
    rpc("anvil_setBalance", STRANGER, hex(100 * _ETH))  # gas (and value) for the stranger's calls
    argument_cache: dict[tuple[_Function, str], st.SearchStrategy[Any]] = {}

    def arguments(fn: _Function, sender: str) -> st.SearchStrategy[Any]:
        key = (fn, sender)
        if key not in argument_cache:
            own = _own(balances.get(sender, ()))
            argument_cache[key] = st.tuples(
                *(_strategy(parse(t), addresses, own, amounts) for t in fn.inputs)
            )
        return argument_cache[key]

    values = st.sampled_from([0, 1, _ETH])

    replays = st.tuples(
        st.integers(0, max(0, len(acts) - 1)), st.integers(0, 3), st.sampled_from([4, 0, 1, 2, 8, 40, 400])
    )
    kinds = st.sampled_from([k for k, ok in (("call", functions), ("replay", acts)) if ok])
    broken: dict[str, str] = {}
    runs = {"examples": 0}

    def check(trail: Sequence[str]) -> None:
        for inv in invariants:
            if inv.name in broken:
                continue
            ok, detail = evaluate(rpc, inv)
            if not ok:
                broken[inv.name] = f"after [{', '.join(trail) or 'no actions'}]: {detail}"

    def send(sender: str, to: str, data: bytes, value: int) -> bool:
        tx = {"from": sender, "to": to, "data": "0x" + data.hex(), "value": hex(value), "gas": hex(_GAS)}
        try:
            rpc("eth_sendTransaction", tx)
        except VerifyError:  # refused by the node (e.g. value above the balance): not a step
            return False
        head = rpc("eth_getBlockByNumber", "latest", False)
        rpc("evm_setNextBlockTimestamp", int(head["timestamp"], 16) + 1)  # chain time, not wall time
        rpc("anvil_mine", "0x1")
        return True

    def step(data: st.DataObject) -> str | None:
        """Draw one call (a replay or a generated one), send and mine it; its trail entry."""
        if data.draw(kinds, label="kind") == "replay":
            index, word, factor = data.draw(replays, label="replay")
            a = acts[index]
            calldata = a.data if factor == 4 else _rescale(a.data, word, factor)
            sent = send(a.sender, a.to, calldata, a.value)
            return f"{a.sender}->{a.to}:0x{calldata[:4].hex()}x{factor}/4@w{word}" if sent else None
        fn = data.draw(st.sampled_from(functions), label="function")
        sender = data.draw(st.sampled_from(senders), label="sender")
        args = data.draw(arguments(fn, sender), label="arguments")
        value = data.draw(values, label="value") if fn.payable else 0
        sent = send(sender, fn.address, fn.selector + encode(list(fn.inputs), list(args)), value)
        shown = f"{sender}->{fn.address}.{fn.name}({','.join(_show(a) for a in args)})"
        return (shown + (f"{{value: {value}}}" if value else "")) if sent else None

    def program(data: st.DataObject | None) -> None:
        """One example: from a snapshot, ``steps`` calls, every invariant checked after each."""
        runs["examples"] += 1
        snapshot = str(rpc("evm_snapshot"))
        trail: list[str] = []
        try:
            check(trail)
            for _ in range(steps if data is not None else 0):
                shown = step(data) if data is not None else None
                if shown is not None:
                    trail.append(shown)
                    check(trail)
        finally:
            rpc("evm_revert", snapshot)

    if acts or functions:
        # An explicit seed (not derandomize, not the wall clock) and a fixed budget: exactly
        # ``examples`` programs of ``steps`` calls. A broken invariant is recorded, not raised,
        # so hypothesis never shrinks and the budget is the whole cost.
        run = hypothesis_seed(seed)(
            settings(
                max_examples=examples,
                derandomize=False,
                database=None,  # never write .hypothesis/ into the user's directory
                deadline=None,  # a slow fork under load must not change the outcome
                phases=(Phase.generate,),
                suppress_health_check=list(HealthCheck),
                print_blob=False,
            )(given(st.data())(program))
        )
        run()
    else:  # nothing to call: the invariants as they stand
        program(None)
    return tuple(
        InvariantResult(inv.name, inv.name not in broken, runs["examples"], broken.get(inv.name, ""))
        for inv in invariants
    )
