"""Initializers anyone can call: misnamed constructors (before solc 0.5), ``init*``/``setup``
functions with no guard, and one-shot setups a mempool watcher can run before the deployer."""

from __future__ import annotations

from collections.abc import Iterator

from bulwark.domain import VulnClass
from bulwark.domain.patch import Localisation
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
        writes = program.writes(fn)
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
