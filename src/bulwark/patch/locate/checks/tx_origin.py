"""Authorisation by ``tx.origin``: any contract the account calls can act as that account."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from bulwark.domain import VulnClass
from bulwark.domain.patch import Localisation
from bulwark.patch.locate.finding import localisation
from bulwark.patch.solast import Contract, Node, Program, is_msg_sender, is_tx_origin, walk


def origin_uses(body: Any) -> list[Node]:
    """``tx.origin`` nodes used for authorisation or as the acting account.

    ``tx.origin == msg.sender`` (an "only EOAs" check) is left alone: it authorises nobody.
    """
    every = list(walk(body))
    origins = [n for n in every if is_tx_origin(n)]
    if not origins:  # the common case: one pass
        return []
    skip: set[int] = set()
    for n in every:
        if n.get("nodeType") == "BinaryOperation" and n.get("operator") in ("==", "!="):
            sides = [n.get("leftExpression") or {}, n.get("rightExpression") or {}]
            if any(is_msg_sender(s) for s in sides):
                skip.update(id(x) for s in sides for x in walk(s))
    return [n for n in origins if id(n) not in skip]


def check_tx_origin(program: Program, contract: Contract) -> Iterator[Localisation]:
    for fn in contract.all_functions:
        if program.text_of(fn.node) is None or fn.body is None:
            continue
        uses = origin_uses(fn.body)
        if uses:
            yield localisation(
                program,
                "tx-origin",
                VulnClass.TX_ORIGIN,
                contract,
                fn,
                fn.body,
                0.8,
                f"{fn.name} trusts tx.origin: any contract the account calls can act as that account",
            )
    for mod in contract.all_modifiers.values():
        if program.text_of(mod.node) is None or mod.body is None:
            continue
        if origin_uses(mod.body):
            yield localisation(
                program,
                "tx-origin",
                VulnClass.TX_ORIGIN,
                contract,
                None,
                mod.body,
                0.8,
                f"modifier {mod.name} authorises by tx.origin",
            )
