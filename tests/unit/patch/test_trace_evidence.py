"""The attack's trace names only the target contract's own functions (a proxy's admin selector or a
fallback reached on the same address is not one of them, and must not break localisation)."""

from __future__ import annotations

from typing import Any

from bulwark.patch.locate.trace import evidence

TARGET = "0x" + "11" * 20
ATTACKER = "0x" + "22" * 20
WITHDRAW, DEPOSIT, ADMIN = "0x2e1a7d4d", "0xd0e30db0", "0xf851a440"


def frame(to: str, selector: str, *calls: dict[str, Any]) -> dict[str, Any]:
    return {"to": to, "input": selector + "00" * 32, "calls": list(calls)}


def test_selectors_the_contract_does_not_have_are_left_out() -> None:
    trace = frame(
        ATTACKER,
        "0xdeadbeef",
        frame(TARGET, ADMIN),  # the proxy's own function, not the implementation's
        frame(TARGET, WITHDRAW, frame(ATTACKER, "0x", frame(TARGET, ADMIN), frame(TARGET, WITHDRAW))),
    )
    ev = evidence(trace, {WITHDRAW, DEPOSIT})
    assert ev.entered == {WITHDRAW}
    assert ev.reentered == {WITHDRAW}
    assert ev.outer_of_reentry == {WITHDRAW}


def test_a_trace_that_never_reaches_the_contract_gives_nothing() -> None:
    ev = evidence(frame(ATTACKER, "0xdeadbeef", frame(ATTACKER, ADMIN)), {WITHDRAW})
    assert not (ev.entered or ev.reentered or ev.outer_of_reentry)
