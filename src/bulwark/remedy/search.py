"""The smallest set of parameter changes that stops an attack.

:func:`candidates` turns the catalogue's setters for a finding class into concrete remedies,
using the setters' current values (every argument but the one changed keeps its value):

* a limit (loan-to-value, cap, maximum, borrow limit): halved first, then the smallest positive
  value (setters often refuse zero), then zero;
* a fee: raised to the configured ceiling;
* an address (oracle, price source, feed): each declared alternative.

Only setters the admin can call (``admin_guards``: the roles the timelock holds) are used. Remedies
are ordered by size (fewer calls, then fewer parameters, then the least drastic change first) and
:func:`search` tries them in that order with a ``check`` that replays the attack on a fork with the
remedy applied, returning the first that stops it and every attempt with its reasons.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any

from bulwark.chain.abi import encode_call
from bulwark.domain.remedy import ParamCall, ParameterRemedy, RemedyAttempt, Setter
from bulwark.logs import get_logger

__all__ = ["ADMIN_GUARDS", "Check", "candidates", "encode_setter", "search"]

log = get_logger(__name__)

ADMIN_GUARDS = frozenset({"role:DEFAULT_ADMIN_ROLE", "owner"})
_LIMIT = re.compile(r"ltv|cap|limit|max|borrow|collateralfactor", re.I)
_FEE = re.compile(r"fee", re.I)
_SOURCE = re.compile(r"oracle|source|feed", re.I)

Check = Callable[[ParameterRemedy], Awaitable[RemedyAttempt]]


def _abi(setter: Setter) -> list[dict[str, Any]]:
    return [
        {
            "type": "function",
            "name": setter.function,
            "stateMutability": "nonpayable",
            "inputs": [{"name": p.name, "type": p.type} for p in setter.params],
            "outputs": [],
        }
    ]


def encode_setter(setter: Setter, args: Sequence[Any]) -> str:
    return "0x" + encode_call(_abi(setter), setter.function, *args).hex()


def _call(
    setter: Setter,
    target: str,
    args: list[Any],
    changes: tuple[tuple[str, str, str], ...],
) -> ParamCall:
    return ParamCall(
        component=setter.component,
        target=target,
        signature=setter.signature,
        args=tuple(args),
        data=encode_setter(setter, args),
        changes=changes,
    )


def candidates(
    setters: Sequence[Setter],
    finding_class: str,
    current: Mapping[tuple[str, str], Any],
    targets: Mapping[str, str],
    *,
    admin_guards: frozenset[str] = ADMIN_GUARDS,
    alternatives: Mapping[str, Sequence[str]] | None = None,
    fee_ceiling: int = 100,
) -> list[ParameterRemedy]:
    """Single-call remedies for ``finding_class``, smallest first.

    ``current`` maps (component, state variable) to its value on chain; ``targets`` maps a
    component to its proxy; ``alternatives`` maps ``component.function`` to replacement addresses.
    """
    alts = alternatives or {}
    out: list[tuple[tuple[int, int, int], ParameterRemedy]] = []
    for order, setter in enumerate(setters):
        if finding_class not in setter.classes or setter.guard not in admin_guards:
            continue
        target = targets.get(setter.component)
        if target is None:
            continue
        values: list[Any] = []
        for p in setter.params:
            key = (setter.component, p.stored_in or "")
            values.append(current.get(key) if p.stored_in else None)
        for i, p in enumerate(setter.params):
            others_known = all(v is not None for j, v in enumerate(values) if j != i)
            if not others_known:
                continue
            now = values[i]
            options: list[tuple[str, Any, int]] = []
            if p.type.startswith("uint") and now is not None and _LIMIT.search(p.name + (p.stored_in or "")):
                if int(now) > 3:
                    options.append((f"halve:{p.name}", int(now) // 2, 0))
                if int(now) > 1:
                    options.append((f"min:{p.name}", 1, 1))  # for setters that refuse zero
                if int(now) > 0:
                    options.append((f"zero:{p.name}", 0, 2))
            elif p.type.startswith("uint") and now is not None and _FEE.search(p.name + (p.stored_in or "")):
                if int(now) < fee_ceiling:
                    options.append((f"raise:{p.name}", fee_ceiling, 0))
            elif p.type == "address" and _SOURCE.search(p.name + (p.stored_in or "") + setter.function):
                for k, alt in enumerate(alts.get(setter.key, ())):
                    if now is None or str(alt).lower() != str(now).lower():
                        options.append((f"switch:{p.name}", alt, k))
            for strategy, new, rank in options:
                args = list(values)
                args[i] = new
                change = (p.name, str(now), str(new))
                remedy = ParameterRemedy(
                    calls=(_call(setter, target, args, (change,)),),
                    rationale=(
                        f"{setter.component}.{setter.function}: {p.name} {now} -> {new} "
                        f"({setter.guard}, neutralises {finding_class} per the catalogue"
                        f"{'' if setter.confirmed else ', inferred'})"
                    ),
                    strategy=strategy,
                )
                out.append(((*remedy.size, rank * 1000 + order), remedy))
    out.sort(key=lambda item: item[0])
    return [r for _, r in out]


async def search(
    remedies: Sequence[ParameterRemedy], check: Check, *, max_tries: int = 6
) -> tuple[ParameterRemedy | None, tuple[RemedyAttempt, ...]]:
    """Try ``remedies`` in order; the first whose attempt stops the attack, and every attempt."""
    attempts: list[RemedyAttempt] = []
    for remedy in remedies[:max_tries]:
        attempt = await check(remedy)
        attempts.append(attempt)
        log.info("remedy tried", remedy=remedy.label, blocked=attempt.blocked, reasons=list(attempt.reasons))
        if attempt.blocked:
            return remedy, tuple(attempts)
    return None, tuple(attempts)
