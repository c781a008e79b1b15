"""Declared invariants, checked on a fork and under a short stateful fuzz (hypothesis).

An invariant compares uint results of view calls (``lhs op rhs``, see
:class:`bulwark.domain.verify.Invariant`). The fuzz is a ``RuleBasedStateMachine`` whose single
rule replays one of the given benign actions (sender, target, calldata) with one amount-looking
argument word possibly rescaled, mines it, and checks every invariant; each example starts from
an EVM snapshot and is reverted afterwards. It is derandomized so that the same fork gives the
same results (and the same evidence hash).

Hypothesis drives a synchronous loop, so this module talks to the fork over a small synchronous
JSON-RPC client; the engine runs it in a worker thread.
"""

from __future__ import annotations

import itertools
import operator
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import httpx
from eth_abi.abi import decode, encode
from eth_utils.crypto import keccak
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, rule, run_state_machine_as_test

from bulwark.domain.verify import Invariant, InvariantResult, ViewCall
from bulwark.verify.fork import VerifyError

__all__ = ["Action", "SyncRpc", "check_invariants", "evaluate", "fuzz_invariants"]

_OPS: dict[str, Callable[[int, int], bool]] = {
    ">=": operator.ge,
    "<=": operator.le,
    "==": operator.eq,
    ">": operator.gt,
    "<": operator.lt,
}


@dataclass(frozen=True, slots=True)
class Action:
    sender: str
    to: str
    data: bytes
    value: int = 0


class SyncRpc:
    def __init__(self, url: str) -> None:
        self._client = httpx.Client(timeout=60.0)
        self._url = url
        self._ids = itertools.count(1)

    def __call__(self, method: str, *params: Any) -> Any:
        body = {"jsonrpc": "2.0", "id": next(self._ids), "method": method, "params": list(params)}
        answer = self._client.post(self._url, json=body).json()
        if "error" in answer:
            raise VerifyError(
                f"{method} failed on the fork: {answer['error'].get('message', answer['error'])}"
            )
        return answer.get("result")

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


def view(rpc: SyncRpc, call: ViewCall) -> int:
    name, inputs, outputs = _split(call.signature)
    selector = keccak(text=f"{name}({','.join(inputs)})")[:4]
    data = selector + encode(inputs, list(call.args))
    raw = rpc("eth_call", {"to": call.address, "data": "0x" + data.hex()}, "latest")
    value = decode(outputs, bytes.fromhex(str(raw)[2:]))[0]
    return int(value)


def evaluate(rpc: SyncRpc, inv: Invariant) -> tuple[bool, str]:
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


def fuzz_invariants(
    url: str,
    invariants: Sequence[Invariant],
    actions: Sequence[Action],
    *,
    examples: int = 10,
    steps: int = 8,
) -> tuple[InvariantResult, ...]:
    """Run the fuzz; one result per invariant (the first violation found, if any)."""
    if not invariants:
        return ()
    rpc = SyncRpc(url)
    broken: dict[str, str] = {}
    runs = {"examples": 0}
    acts = list(actions)

    def mine() -> None:
        head = rpc("eth_getBlockByNumber", "latest", False)
        rpc("evm_setNextBlockTimestamp", int(head["timestamp"], 16) + 1)
        rpc("anvil_mine", "0x1")

    class Machine(RuleBasedStateMachine):
        def __init__(self) -> None:
            super().__init__()
            self.snapshot = str(rpc("evm_snapshot"))
            self.trail: list[str] = []
            runs["examples"] += 1

        @initialize()
        def start(self) -> None:
            self.check()

        @rule(
            index=st.integers(0, max(0, len(acts) - 1)),
            word=st.integers(0, 3),
            factor=st.sampled_from([4, 0, 1, 2, 8, 40, 400]),
        )
        def act(self, index: int, word: int, factor: int) -> None:
            if not acts:
                return
            a = acts[index]
            data = a.data if factor == 4 else _rescale(a.data, word, factor)
            tx = {
                "from": a.sender,
                "to": a.to,
                "data": "0x" + data.hex(),
                "value": hex(a.value),
                "gas": hex(5_000_000),
            }
            rpc("eth_sendTransaction", tx)
            mine()
            self.trail.append(f"{a.sender}->{a.to}:0x{data[:4].hex()}x{factor}/4@w{word}")
            self.check()

        def check(self) -> None:
            for inv in invariants:
                if inv.name in broken:
                    continue
                ok, detail = evaluate(rpc, inv)
                if not ok:
                    broken[inv.name] = f"after [{', '.join(self.trail) or 'no actions'}]: {detail}"

        def teardown(self) -> None:
            rpc("evm_revert", self.snapshot)

    try:
        run_state_machine_as_test(
            Machine,
            settings=settings(
                max_examples=examples,
                stateful_step_count=steps,
                derandomize=True,
                database=None,
                deadline=None,
                suppress_health_check=list(HealthCheck),
                report_multiple_bugs=False,
            ),
        )
    finally:
        rpc.close()
    return tuple(
        InvariantResult(inv.name, inv.name not in broken, runs["examples"], broken.get(inv.name, ""))
        for inv in invariants
    )
