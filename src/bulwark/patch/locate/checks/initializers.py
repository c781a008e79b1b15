"""Initializers anyone can call: misnamed constructors (before solc 0.5), ``init*``/``setup``
functions with no guard, and one-shot setups a mempool watcher can run before the deployer.

A setup often keeps its state in a struct and does the work in a library (``wallet.setup(owners,
limit)`` with ``using Lib for Lib.Data``): the writes go through the library's storage parameter,
so the state variable passed for it counts as written by the setup."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from bulwark.domain import VulnClass
from bulwark.domain.patch import Localisation
from bulwark.patch.expr import assigned_targets
from bulwark.patch.locate.checks.access_control import guard_variables
from bulwark.patch.locate.facts import is_initializer, own_entries
from bulwark.patch.locate.finding import localisation
from bulwark.patch.solast import (
    Contract,
    Function,
    Program,
    base_variable,
    is_msg_sender,
    type_string,
    walk,
)


def check_initializers(program: Program, contract: Contract) -> Iterator[Localisation]:
    for fn in own_entries(program, contract):
        if fn.kind != "function":
            continue
        lowered = fn.name.lower()
        if (
            not program.at_least(0, 5)
            and _constructor_like(fn.name, contract.name)
            and _initialises(program, contract, fn)
        ):
            yield localisation(
                program,
                "misnamed-constructor",
                VulnClass.ACCESS_CONTROL,
                contract,
                fn,
                None,
                0.95,
                f"{fn.name} looks like a constructor of {contract.name} but is a public function",
            )
            continue
        if not (lowered.startswith("init") or lowered in ("setup", "configure")):
            continue
        if is_initializer(fn) or program.checks_sender(fn):
            continue
        writes = program.writes(fn) | storage_argument_writes(program, fn)
        reads = program.reads(fn)
        # a one-shot flag: a bool read (checked) and written by the function
        flags = {v for v in writes & reads if type_string(program.nodes_by_id.get(v) or {}) == "bool"}
        if not writes:
            continue
        if flags:
            if not contract.is_upgradeable:
                yield localisation(
                    program,
                    "frontrunnable-setup",
                    VulnClass.FRONT_RUNNING,
                    contract,
                    fn,
                    None,
                    0.6,
                    f"{fn.name} runs once, for whoever calls it first: a mempool watcher can run it before "
                    "the deployer does",
                )
            continue
        yield localisation(
            program,
            "unprotected-initializer",
            VulnClass.ACCESS_CONTROL,
            contract,
            fn,
            None,
            0.85,
            f"{fn.name} can be called by anyone, any number of times",
        )


def _state_root(program: Program, expr: Mapping[str, Any]) -> int | None:
    root = base_variable(expr) or {}
    ref = root.get("referencedDeclaration")
    if ref is None or not (program.nodes_by_id.get(int(ref)) or {}).get("stateVariable"):
        return None
    return int(ref)


def _writes_through(program: Program, callee: Function, param_id: int, depth: int = 0) -> bool:
    """Does ``callee`` write through its storage parameter ``param_id`` (itself, or by handing it
    on to another function that does)?"""
    for n in program.nodes(callee.body):
        for target in assigned_targets(n):
            if (base_variable(target) or {}).get("referencedDeclaration") == param_id:
                return True
    if depth >= 3:
        return False
    for _call, inner, args in _storage_calls(program, callee):
        for param, arg in args:
            if (base_variable(arg) or {}).get("referencedDeclaration") == param_id and _writes_through(
                program, inner, param, depth + 1
            ):
                return True
    return False


def _storage_calls(
    program: Program, part: Function
) -> list[tuple[Mapping[str, Any], Function, list[tuple[int, Mapping[str, Any]]]]]:
    """Internal calls of ``part`` with, for each storage-reference parameter of the callee, the
    argument passed for it (the bound value of ``x.f(...)`` under ``using Lib for T`` included)."""
    out: list[tuple[Mapping[str, Any], Function, list[tuple[int, Mapping[str, Any]]]]] = []
    for call in program.nodes(part.body, "FunctionCall"):
        target = program.internal_target(part.contract, call)
        if not isinstance(target, Function) or target.body is None:
            continue
        params = (target.node.get("parameters") or {}).get("parameters") or []
        args: list[Mapping[str, Any]] = list(call.get("arguments") or [])
        expr = call.get("expression") or {}
        base = expr.get("expression") or {}
        bound = (
            expr.get("nodeType") == "MemberAccess"
            and len(params) == len(args) + 1
            and (program.nodes_by_id.get(int(base.get("referencedDeclaration") or -1)) or {}).get("nodeType")
            != "ContractDefinition"
        )
        if bound:
            args = [base, *args]
        pairs = [
            (int(p["id"]), a)
            for p, a in zip(params, args, strict=False)
            if p.get("storageLocation") == "storage"
        ]
        if pairs:
            out.append((call, target, pairs))
    return out


def storage_argument_writes(program: Program, fn: Function) -> set[int]:
    """State variables ``fn`` (with what it calls) hands as a storage argument to a function that
    writes through it: ``data.setup(...)`` writes ``data``."""
    out: set[int] = set()
    for part in program.closure(fn):
        if not isinstance(part, Function):
            continue
        for _call, target, pairs in _storage_calls(program, part):
            for param, arg in pairs:
                ref = _state_root(program, arg)
                if ref is not None and ref not in out and _writes_through(program, target, param):
                    out.add(ref)
    return out


def _initialises(program: Program, contract: Contract, fn: Function) -> bool:
    """Does ``fn`` do a constructor's work: store its caller, or set a variable that guards other
    functions (an owner)? A function that merely shares the contract's name (``multisend`` in
    ``Multisend``) and does the contract's business is not a constructor, whatever its name."""
    guards = guard_variables(program, contract)
    for part in program.closure(fn):
        for n in program.nodes(part.body, "Assignment"):
            root = base_variable(n.get("leftHandSide") or {}) or {}
            ref = root.get("referencedDeclaration")
            if ref is None or not (program.nodes_by_id.get(int(ref)) or {}).get("stateVariable"):
                continue
            if int(ref) in guards or any(is_msg_sender(x) for x in walk(n.get("rightHandSide") or {})):
                return True
    return False


def _constructor_like(name: str, contract: str) -> bool:
    """A public function named like its contract (a case slip or a typo): meant as a constructor."""
    import difflib

    a, b = name.lower(), contract.lower()
    if a == b or (len(b) >= 4 and difflib.SequenceMatcher(None, a, b).ratio() >= 0.8):
        return True
    # a renamed contract whose old constructor kept the old name (DynamicPayoutQueue / PayoutQueue)
    return min(len(a), len(b)) >= 6 and (a.endswith(b) or b.endswith(a) or a.startswith(b) or b.startswith(a))
