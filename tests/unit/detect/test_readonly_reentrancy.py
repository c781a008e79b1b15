"""Read-only reentrancy: a protected contract reads a view of another protected contract while that
one's state-changing call is still running and has handed control to an outside contract (a pool
paying out ether before it updates its reserves; a lender pricing collateral at the pool's rate)."""

from __future__ import annotations

from typing import Any

from tests.unit.detect.synth import (
    ATTACK_CONTRACT,
    ATTACKER,
    E18,
    LENDING,
    POOL,
    USD,
    USER,
    call,
    event,
    word,
)

from bulwark.detect.builtins.reentrancy import Reentrancy
from bulwark.detect.model import ChainView
from bulwark.domain import VulnClass


def _rate(reader: Any) -> dict[str, Any]:
    return call(reader, POOL, "getRate()", typ="STATICCALL", output=word(7 * E18))


def _exit(callback: list[dict[str, Any]], sender: Any = ATTACK_CONTRACT) -> dict[str, Any]:
    """The pool's exit pays the caller (an outside contract) before it updates its reserves."""
    return call(
        sender, POOL, "exit(uint256)", word(E18), calls=[call(POOL, sender, value=E18, calls=callback)]
    )


def _borrow_reading_rate() -> dict[str, Any]:
    return call(
        ATTACK_CONTRACT,
        LENDING,
        "borrow(uint256)",
        word(E18),
        calls=[
            _rate(LENDING),
            call(LENDING, USD, "transfer(address,uint256)", word(ATTACK_CONTRACT) + word(E18)),
        ],
    )


def test_a_lender_reading_the_pools_rate_mid_exit_is_read_only_reentrancy(view: ChainView) -> None:
    tx = call(ATTACKER, ATTACK_CONTRACT, "run()", calls=[_exit([_borrow_reading_rate()])])
    [f] = list(Reentrancy()(view, event(tx)))
    assert f.vuln_class is VulnClass.REENTRANCY and f.contract == POOL and f.severity.name == "CRITICAL"
    assert "read-only" in f.title and f.evidence["reentered_from"] == LENDING


def test_view_reads_that_are_not_read_only_reentrancy(view: ChainView) -> None:
    det = Reentrancy()
    # the same borrow after the exit returned: the pool is no longer mid-call
    after = call(ATTACKER, ATTACK_CONTRACT, "run()", calls=[_exit([]), _borrow_reading_rate()])
    assert list(det(view, event(after))) == []
    # the outside contract itself reads the rate mid-exit (a bot's own lookup): not the protocol's decision
    own_read = call(ATTACKER, ATTACK_CONTRACT, "run()", calls=[_exit([_rate(ATTACK_CONTRACT)])])
    assert list(det(view, event(own_read))) == []
    # the pool reads another protected contract's view from inside its own call, nothing outside between
    internal = call(
        USER,
        POOL,
        "exit(uint256)",
        calls=[call(POOL, LENDING, "quote()", typ="STATICCALL", calls=[_rate(LENDING)])],
    )
    assert list(det(view, event(internal))) == []
    # reverted: nothing happened
    reverted = call(
        ATTACKER,
        ATTACK_CONTRACT,
        "run()",
        calls=[_exit([_borrow_reading_rate()])],
        error="execution reverted",
    )
    assert list(det(view, event(reverted))) == []
