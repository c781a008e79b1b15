"""``selfdestruct`` reachable by anyone, and ``delegatecall`` to a caller-chosen address."""

from __future__ import annotations

from collections.abc import Iterator

from bulwark.domain import VulnClass
from bulwark.domain.patch import Localisation
from bulwark.patch.locate.facts import own_entries
from bulwark.patch.locate.finding import localisation
from bulwark.patch.solast import Contract, Program, base_variable, call_target, callee_name


def check_selfdestruct_delegatecall(program: Program, contract: Contract) -> Iterator[Localisation]:
    for fn in own_entries(program, contract):
        if program.checks_sender(fn):
            continue
        params = {int(p["id"]) for p in (fn.node.get("parameters") or {}).get("parameters") or []}
        for part in program.closure(fn):
            for call in (n for n in part.program.nodes(part.body) if n.get("nodeType") == "FunctionCall"):
                name = callee_name(call)
                if (
                    name in ("selfdestruct", "suicide")
                    and (call.get("expression") or {}).get("nodeType") == "Identifier"
                ):
                    yield localisation(
                        program,
                        "unprotected-selfdestruct",
                        VulnClass.UNPROTECTED_SELFDESTRUCT,
                        contract,
                        fn,
                        call,
                        0.9,
                        f"anyone can make {fn.name} destroy the contract",
                    )
                target = call_target(call)
                if name == "delegatecall" and target is not None:
                    base = base_variable(target.get("expression") or {})
                    if base is not None and base.get("referencedDeclaration") in params:
                        yield localisation(
                            program,
                            "controlled-delegatecall",
                            VulnClass.UNPROTECTED_DELEGATECALL,
                            contract,
                            fn,
                            call,
                            0.85,
                            f"{fn.name} delegatecalls a caller-chosen address",
                        )
