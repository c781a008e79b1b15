"""Bulwark's own localisation checks over the AST, for flaws Slither does not report (or reports
too broadly). One check per module, registered explicitly in ``CHECKS``.

A check is ``(Program, Contract) -> Iterator[Localisation]``; each finding has a score in [0, 1]:
how sure we are that this is the flaw an attacker would use. Scores are comparable across checks;
the trace can raise them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

from bulwark.domain.patch import Localisation
from bulwark.patch.locate.checks.access_control import check_access_control
from bulwark.patch.locate.checks.arithmetic import check_arithmetic
from bulwark.patch.locate.checks.array_length import check_array_length
from bulwark.patch.locate.checks.batch_require import check_batch_require
from bulwark.patch.locate.checks.clock_span import check_clock_span
from bulwark.patch.locate.checks.dos import check_dos
from bulwark.patch.locate.checks.erc4626 import check_erc4626
from bulwark.patch.locate.checks.initializers import check_initializers
from bulwark.patch.locate.checks.logic import check_logic
from bulwark.patch.locate.checks.logic_siblings import check_logic_siblings
from bulwark.patch.locate.checks.oracle import check_oracle
from bulwark.patch.locate.checks.priced_trade import check_priced_trade
from bulwark.patch.locate.checks.randomness import check_randomness
from bulwark.patch.locate.checks.reentrancy import check_reentrancy
from bulwark.patch.locate.checks.reprice import check_reprice
from bulwark.patch.locate.checks.revealed_answer import check_revealed_answer
from bulwark.patch.locate.checks.selfdestruct_delegatecall import check_selfdestruct_delegatecall
from bulwark.patch.locate.checks.signature_replay import check_signatures
from bulwark.patch.locate.checks.strict_balance import check_strict_balance
from bulwark.patch.locate.checks.timestamp import check_timestamp
from bulwark.patch.locate.checks.tx_origin import check_tx_origin
from bulwark.patch.locate.checks.unbounded_loop import check_unbounded_loop
from bulwark.patch.locate.checks.unchecked_call import check_unchecked_calls
from bulwark.patch.locate.checks.upgrade_auth import check_upgrade_auth
from bulwark.patch.solast import Contract, Program

Check = Callable[[Program, Contract], Iterator[Localisation]]

# the order findings come out in (combine() keeps the first detector's name first)
CHECKS: tuple[Check, ...] = (
    check_access_control,
    check_initializers,
    check_upgrade_auth,
    check_selfdestruct_delegatecall,
    check_tx_origin,
    check_unchecked_calls,
    check_reentrancy,
    check_arithmetic,
    check_array_length,
    check_signatures,
    check_oracle,
    check_erc4626,
    check_dos,
    check_strict_balance,
    check_unbounded_loop,
    check_batch_require,
    check_timestamp,
    check_clock_span,
    check_randomness,
    check_revealed_answer,
    check_reprice,
    check_priced_trade,
    check_logic,
    check_logic_siblings,
)


def run_checks(program: Program, contracts: list[Contract]) -> list[Localisation]:
    out: list[Localisation] = []
    for contract in contracts:
        if contract.kind != "contract":
            continue
        for check in CHECKS:
            out.extend(check(program, contract))
    return out


__all__ = ["CHECKS", "Check", "run_checks"]
