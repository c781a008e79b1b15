"""Localisation refinements for the classes issue 18 adds: what is and is not a flaw."""

from __future__ import annotations

from bulwark.domain import VulnClass
from bulwark.patch import PatchRequest, locate
from bulwark.toolchain.solc import Compiler

from .conftest import HERE

CONTRACTS = HERE / "contracts" / "classes"


def _findings(compiler: Compiler, name: str) -> dict[tuple[VulnClass, str | None], float]:
    found = locate(PatchRequest(paths=[CONTRACTS / name], use_slither=False), compiler=compiler)
    return {(f.vuln_class, f.function): f.score for f in found}


def test_state_anyone_may_set_is_not_privileged(compiler: Compiler) -> None:
    found = _findings(compiler, "OpenList.sol")
    # anyone appends any value to tiers: editing one is not a privileged write, whatever its name
    assert (VulnClass.ACCESS_CONTROL, "updateTier") not in found
    # the treasury is otherwise set only by the owner: still a finding
    assert (VulnClass.ACCESS_CONTROL, "updateTreasury") in found
