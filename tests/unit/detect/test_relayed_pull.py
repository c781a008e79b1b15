"""An allowance given to a protected contract (a router, a batcher) spent to deliver the owner's
tokens to whoever sent the transaction: read from the call tree, since the token's Transfer log
leaves the state diff unasked."""

from __future__ import annotations

from typing import Any

from tests.unit.detect.synth import (
    ATTACK_CONTRACT,
    ATTACKER,
    TIMELOCK,
    USD,
    USER,
    VAULT,
    addr,
    call,
    event,
    transfer_log,
    word,
)

from bulwark.detect.builtins.balance_debit import ForeignBalanceDebit
from bulwark.detect.model import ChainView
from bulwark.domain import Address

ECRECOVER = Address("0x" + "00" * 19 + "01")
BYSTANDER = addr(0xB3)


def _pull(
    spender: Address, owner: Address, to: Address, amount: int = 400, error: str | None = None
) -> dict[str, Any]:
    return call(
        spender,
        USD,
        "transferFrom(address,address,uint256)",
        word(owner) + word(to) + word(amount),
        logs=None if error else [transfer_log(USD, owner, to, amount)],
        output=word(1),
        error=error,
    )


def _through_router(sender: Address, *inner: dict[str, Any]) -> dict[str, Any]:
    return call(sender, VAULT, "execute((address,bytes)[])", calls=list(inner))


def test_router_pulling_a_bystanders_tokens_to_the_sender_is_critical(view: ChainView) -> None:
    [f] = list(ForeignBalanceDebit()(view, event(_through_router(ATTACKER, _pull(VAULT, USER, ATTACKER)))))
    assert f.severity.name == "CRITICAL" and f.pending and f.contract == VAULT
    assert f.evidence["owner"] == USER and f.evidence["to"] == ATTACKER and f.evidence["amount"] == "400"


def test_delivery_to_the_senders_own_entry_contract_counts(view: ChainView) -> None:
    tx = call(
        ATTACKER,
        ATTACK_CONTRACT,
        "go()",
        calls=[_through_router(ATTACK_CONTRACT, _pull(VAULT, USER, ATTACK_CONTRACT))],
    )
    [f] = list(ForeignBalanceDebit()(view, event(tx)))
    assert f.evidence["to"] == ATTACK_CONTRACT


def test_honest_pulls_are_not_findings(view: ChainView) -> None:
    det = ForeignBalanceDebit()
    # the owner zaps its own tokens in
    assert list(det(view, event(_through_router(USER, _pull(VAULT, USER, VAULT))))) == []
    # a keeper deposits for the owner: the tokens go into the protocol, not to the keeper
    assert list(det(view, event(_through_router(ATTACKER, _pull(VAULT, USER, VAULT))))) == []
    # the approved account spends its allowance itself: the token's own rules
    assert list(det(view, event(_pull(ATTACKER, USER, ATTACKER)))) == []
    # a role holder moving funds
    assert list(det(view, event(_through_router(TIMELOCK, _pull(VAULT, USER, TIMELOCK))))) == []
    # the pull reverted inside a try/catch
    assert (
        list(
            det(
                view,
                event(_through_router(ATTACKER, _pull(VAULT, USER, ATTACKER, error="execution reverted"))),
            )
        )
        == []
    )
    # a spender that is not protected (someone else's router): not ours to judge
    assert (
        list(
            det(view, event(call(ATTACKER, ATTACK_CONTRACT, calls=[_pull(ATTACK_CONTRACT, USER, ATTACKER)])))
        )
        == []
    )
    # delivered to a third party rather than the sender
    assert list(det(view, event(_through_router(ATTACKER, _pull(VAULT, USER, BYSTANDER))))) == []


def test_an_owner_that_signed_or_called_in_is_the_owners_choice(view: ChainView) -> None:
    det = ForeignBalanceDebit()
    recover = call(VAULT, ECRECOVER, None, b"\x11" * 128, typ="STATICCALL", output=word(USER))
    assert list(det(view, event(_through_router(ATTACKER, recover, _pull(VAULT, USER, ATTACKER))))) == []
    # the owner's own contract wallet calls in during the transaction
    owner_call = call(USER, VAULT, "approveFor(address)", word(ATTACKER))
    assert list(det(view, event(_through_router(ATTACKER, owner_call, _pull(VAULT, USER, ATTACKER))))) == []
