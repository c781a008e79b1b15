"""Slither's upgradeability checks (``slither-check-upgradeability``), as corroborating notes.

They flag missing, reordered and extra variables, constants that changed, variables with an
initial value and initializer problems between two versions of a contract. They do not flag an
unprotected ``_authorizeUpgrade`` and do not know ERC-7201 namespaces, so the stage's own checks
(:mod:`bulwark.verify.layout`, :mod:`bulwark.verify.safety`) decide; Slither's findings are kept
in the evidence as non-fatal notes.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from bulwark.domain.verify import Check, Reason
from bulwark.errors import SlitherError
from bulwark.toolchain.artifacts import CompileResult
from bulwark.toolchain.slither import slither_for_result

__all__ = ["slither_upgradeability"]


def _contract(slither: Any, name: str) -> Any:
    found = slither.get_contract_from_name(name)
    if not found:
        raise SlitherError(f"Slither found no contract {name!r}")
    return found[0]


def slither_upgradeability(
    live: CompileResult, live_name: str, candidate: CompileResult, candidate_name: str, root: Path
) -> tuple[Reason, ...]:
    from slither.tools.upgradeability.checks import all_checks
    from slither.tools.upgradeability.checks.abstract_checks import AbstractCheck, CheckClassification

    v1 = _contract(slither_for_result(live, root), live_name)
    v2 = _contract(slither_for_result(candidate, root), candidate_name)
    notes: list[Reason] = []
    checks: list[Any] = [
        c for c in vars(all_checks).values() if isinstance(c, type) and issubclass(c, AbstractCheck)
    ]
    for check in sorted(checks, key=lambda c: str(c.ARGUMENT)):
        if check.REQUIRE_PROXY or check.IMPACT == CheckClassification.INFORMATIONAL:
            continue
        try:
            instance = check(None, v1, None, v2) if check.REQUIRE_CONTRACT_V2 else check(None, v2)
            results = instance.check()
        except Exception as exc:  # Slither raises bare exceptions on inputs it cannot handle
            notes.append(
                Reason(Check.SAFETY, f"slither:{check.ARGUMENT}", "slither", f"check failed: {exc}", False)
            )
            continue
        for result in results:
            text = " ".join(str(result.get("description", "")).split())
            notes.append(Reason(Check.SAFETY, f"slither:{check.ARGUMENT}", candidate_name, text, fatal=False))
    return tuple(notes)
