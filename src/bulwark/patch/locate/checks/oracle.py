"""Spot-price oracles: values read from a pool's current state, which one transaction can move."""

from __future__ import annotations

from collections.abc import Iterator

from bulwark.domain import VulnClass
from bulwark.domain.patch import Localisation
from bulwark.patch.locate.facts import entry_functions
from bulwark.patch.locate.finding import localisation
from bulwark.patch.solast import Contract, Program, call_target, callee_name, is_external_call, type_string

SPOT_CALLS = frozenset(
    {
        "getReserves",
        "spotPrice",
        "getSpotPrice",
        "slot0",
        "getAmountOut",
        "getAmountsOut",
        "get_dy",
        "getRate",
    }
)
# names of time-weighted price functions: the TWAP fix template calls one of these on the same oracle
TWAP_WORDS = ("twap", "consult", "observe", "timeweighted", "getaverage", "averageprice")


def check_oracle(program: Program, contract: Contract) -> Iterator[Localisation]:
    entries = entry_functions(contract)
    for fn in contract.functions:
        if program.text_of(fn.node) is None or fn.body is None:
            continue
        for call in (n for n in fn.program.nodes(fn.body) if n.get("nodeType") == "FunctionCall"):
            if (callee_name(call) in SPOT_CALLS and is_external_call(call)) or (
                callee_name(call) in SPOT_CALLS and " external" in type_string(call_target(call) or {})
            ):
                # the spot value decides a state change (a borrow limit, a mint): the flaw itself
                decides = any(program.reaches(e, fn.id) for e in entries)
                yield localisation(
                    program,
                    "spot-price",
                    VulnClass.ORACLE_MANIPULATION,
                    contract,
                    fn,
                    call,
                    0.9 if decides else 0.65,
                    f"{fn.name} values assets at the spot price from {callee_name(call)}(), which one "
                    "transaction can move"
                    + (", and a state-changing function acts on that value" if decides else ""),
                )
