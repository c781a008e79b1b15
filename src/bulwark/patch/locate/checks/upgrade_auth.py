"""A UUPS ``_authorizeUpgrade`` with no caller check: anyone can replace the implementation."""

from __future__ import annotations

from collections.abc import Iterator

from bulwark.domain import VulnClass
from bulwark.domain.patch import Localisation
from bulwark.patch.locate.finding import localisation
from bulwark.patch.solast import Contract, Program


def check_upgrade_auth(program: Program, contract: Contract) -> Iterator[Localisation]:
    fn = next((f for f in contract.all_functions if f.name == "_authorizeUpgrade"), None)
    if fn is None or program.text_of(fn.node) is None or fn.body is None:
        return
    if program.checks_sender(fn) or fn.modifiers:
        return
    yield localisation(
        program,
        "unprotected-upgrade",
        VulnClass.ACCESS_CONTROL,
        contract,
        fn,
        None,
        0.95,
        "_authorizeUpgrade lets anyone upgrade the implementation",
    )
