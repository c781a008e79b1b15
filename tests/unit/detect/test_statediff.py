"""Value accounting from the storage diff: balances lowered in a token that emits no events."""

from __future__ import annotations

from dataclasses import replace

from tests.unit.detect.synth import (
    ATTACKER,
    TIMELOCK,
    USD,
    USER,
    addr,
    call,
    event,
    make_view,
    transfer_log,
    word,
)

from bulwark.detect.builtins.balance_debit import ForeignBalanceDebit
from bulwark.detect.model import ChainView, ContractInfo
from bulwark.detect.statediff import mapping_slot, nested_entries
from bulwark.domain import Address

VICTIM = addr(0xB2)


def _slot(n: int) -> str:
    return "0x" + n.to_bytes(32, "big").hex()


def _diff(contract: Address, changes: dict[int, tuple[int, int]]) -> dict[str, object]:
    pre = {_slot(s): _slot(b) for s, (b, _) in changes.items()}
    post = {_slot(s): _slot(a) for s, (_, a) in changes.items()}
    return {"pre": {contract.lower(): {"storage": pre}}, "post": {contract.lower(): {"storage": post}}}


def _spend(src: Address, owner: Address, to: Address, amount: int, base: int = 3, logs: bool = False):  # type: ignore[no-untyped-def]
    raw = call(
        src,
        USD,
        "move(address,address,uint256)",
        word(owner) + word(to) + word(amount),
        logs=[transfer_log(USD, owner, to, amount)] if logs else None,
    )
    d = _diff(USD, {mapping_slot(owner, base): (1000, 1000 - amount), mapping_slot(to, base): (0, amount)})
    return event(raw, diff=d)


def test_mapping_slot_matches_solidity() -> None:
    # keccak256(abi.encode(address(0x...01), uint256(0))) as solc lays out balances[a] at slot 0
    a = Address("0x0000000000000000000000000000000000000001")
    assert hex(mapping_slot(a, 0)) == "0xada5013122d395ba3c54772283fb069b10426056ef8ca54750cb9bb552a59e7d"
    # nested: m[k1][k2] = keccak(k2 . keccak(k1 . base))
    [(slot, key)] = nested_entries([a], [a], [1]).items()
    assert key == (a, a, 1) and slot == mapping_slot(a, mapping_slot(a, 1).to_bytes(32, "big"))


def test_balance_of_a_bystander_lowered_without_events_is_critical(view: ChainView) -> None:
    [f] = list(ForeignBalanceDebit()(view, _spend(ATTACKER, VICTIM, ATTACKER, 400)))
    assert f.contract == USD and f.evidence["owner"] == VICTIM and f.evidence["amount"] == "400"
    assert f.pending and f.severity.name == "CRITICAL"


def test_own_spend_allowance_transfer_event_and_role_holders_are_not_findings(view: ChainView) -> None:
    det = ForeignBalanceDebit()
    assert list(det(view, _spend(VICTIM, VICTIM, USER, 400))) == []  # the owner sent it
    assert list(det(view, _spend(ATTACKER, VICTIM, ATTACKER, 400, logs=True))) == []  # standard transferFrom
    assert list(det(view, _spend(TIMELOCK, VICTIM, ATTACKER, 400))) == []  # a role holder (admin burn)
    ev = _spend(ATTACKER, VICTIM, ATTACKER, 400)
    allowance = mapping_slot(ATTACKER, mapping_slot(VICTIM, 4).to_bytes(32, "big"))
    assert ev.diff is not None
    spent = _diff(USD, {allowance: (500, 100)})
    ev.diff.storage[USD] = ev.diff.storage[USD] + event(call(ATTACKER, USD), diff=spent).diff.storage[USD]  # type: ignore[union-attr]
    assert list(det(view, ev)) == []  # an allowance of the owner was spent


def test_layout_bases_replace_the_probe(view: ChainView) -> None:
    info = replace(view.protocol.contracts[USD], balance_maps=frozenset({40}))
    proto = replace(view.protocol, contracts={**view.protocol.contracts, USD: info})
    laid_out = ChainView(proto, view.state)
    det = ForeignBalanceDebit()
    assert (
        list(det(laid_out, _spend(ATTACKER, VICTIM, ATTACKER, 400, base=3))) == []
    )  # slot 3 is not a balance
    assert len(list(det(laid_out, _spend(ATTACKER, VICTIM, ATTACKER, 400, base=40)))) == 1


def test_no_diff_no_finding() -> None:
    view = make_view()
    raw = call(ATTACKER, USD, "move(address,address,uint256)", word(VICTIM) + word(ATTACKER) + word(1))
    assert list(ForeignBalanceDebit()(view, event(raw))) == []
    assert isinstance(view.protocol.contracts[USD], ContractInfo)


def test_an_operator_the_owner_appointed_in_storage_may_spend(view: ChainView) -> None:
    ev = _spend(ATTACKER, VICTIM, ATTACKER, 400)
    operator_slot = mapping_slot(VICTIM, 3 + 1)  # operatorOf[victim], read by the transaction
    appointed = replace(ev, reads={USD: {operator_slot: int(ATTACKER, 16)}})
    assert list(ForeignBalanceDebit()(view, appointed)) == []
    someone_else = replace(ev, reads={USD: {operator_slot: int(USER, 16)}})
    assert len(list(ForeignBalanceDebit()(view, someone_else))) == 1
