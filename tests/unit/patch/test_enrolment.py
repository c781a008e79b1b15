"""A flag any caller sets for itself (``members[msg.sender] = true``) is a sign-up when what it opens
is ordinary use, and a takeover when it opens what only a privileged caller could do otherwise."""

from __future__ import annotations

from bulwark.domain import VulnClass
from bulwark.patch import PatchRequest, locate
from bulwark.toolchain.solc import Compiler

from .conftest import HERE

CONTRACTS = HERE / "contracts" / "classes"


def _access_findings(compiler: Compiler) -> set[tuple[str, str | None]]:
    found = locate(PatchRequest(paths=[CONTRACTS / "Enrolment.sol"], use_slither=False), compiler=compiler)
    return {(f.contract, f.function) for f in found if f.vuln_class is VulnClass.ACCESS_CONTROL}


def test_joining_a_club_that_opens_ordinary_use_is_no_access_flaw(compiler: Compiler) -> None:
    # `move` checks the flag, but moves only the caller's own credit, state withdraw writes too
    assert ("OpenClub", "join") not in _access_findings(compiler)


def test_appointing_oneself_to_what_pays_out_or_reprices_is_still_a_takeover(compiler: Compiler) -> None:
    found = _access_findings(compiler)
    assert ("SelfAppointed", "appoint") in found  # it opens a sweep of the contract's ether
    assert ("SelfOperator", "enlist") in found  # it opens a price otherwise only the owner sets
