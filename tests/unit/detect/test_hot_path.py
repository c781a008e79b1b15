"""Screening's per-transaction economies: work that depends only on the configuration or on the
snapshot is done once, and calldata is decoded only where a signature can be; the judgements stay
the same (the detectors' own tests cover those)."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest
from eth_abi.abi import encode
from tests.unit.detect.synth import ATTACKER, E18, LENDING, USD, USER, VAULT, call, event, transfer_log, word
from tests.unit.detect.synth import protocol as synth_protocol

from bulwark.detect.builtins import flashloan, privileged, signature_replay
from bulwark.detect.builtins.flashloan import FlashLoanPriceManipulation
from bulwark.detect.builtins.invariant import InvariantBreak
from bulwark.detect.builtins.privileged import privileged_signature
from bulwark.detect.builtins.signature_replay import SignatureReplay, calldata_signatures
from bulwark.detect.evm import selector
from bulwark.detect.model import ChainView, ProtocolModel
from bulwark.detect.screen import Screener
from bulwark.detect.setup import Monitor
from bulwark.domain import Selector, TxHash

ABI = (
    {
        "type": "function",
        "name": "deposit",
        "inputs": [{"name": "amount", "type": "uint256"}, {"name": "to", "type": "address"}],
    },
    {
        "type": "function",
        "name": "claim",
        "inputs": [{"name": "amount", "type": "uint256"}, {"name": "sig", "type": "bytes"}],
    },
    {
        "type": "function",
        "name": "permit",
        "inputs": [
            {"name": "value", "type": "uint256"},
            {"name": "v", "type": "uint8"},
            {"name": "r", "type": "bytes32"},
            {"name": "s", "type": "bytes32"},
        ],
    },
    {
        "type": "function",
        "name": "batch",
        "inputs": [
            {
                "name": "orders",
                "type": "tuple[]",
                "components": [{"name": "who", "type": "address"}, {"name": "sig", "type": "bytes"}],
            }
        ],
    },
)
R, S = 0x1234 << 200, 0x5678 << 190


def _typed(view: ChainView) -> ChainView:
    contracts = dict(view.protocol.contracts)
    contracts[VAULT] = replace(contracts[VAULT], abi=ABI)
    p = view.protocol
    return ChainView(ProtocolModel(p.name, contracts, p.assets, p.roles, p.flash_lenders), view.state)


@pytest.fixture
def decodes(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, ...]]:
    """Every eth_abi decode the signature detector makes."""
    seen: list[tuple[str, ...]] = []
    real = signature_replay.decode  # type: ignore[attr-defined]

    def counting(types: Any, data: bytes) -> Any:
        seen.append(tuple(types))
        return real(types, data)

    monkeypatch.setattr(signature_replay, "decode", counting)
    return seen


def test_calls_whose_arguments_cannot_hold_a_signature_are_not_decoded(
    view: ChainView, decodes: list[tuple[str, ...]]
) -> None:
    v = _typed(view)
    info = v.protocol.contracts[VAULT]
    data = bytes.fromhex("6e553f65") + encode(["uint256", "address"], [E18, USER])  # deposit(uint256,address)
    assert calldata_signatures(info, data) == []
    deposit = call(USER, VAULT, "deposit(uint256,address)", encode(["uint256", "address"], [E18, USER]))
    for n in range(20):
        ev = event(deposit, sender=USER)
        assert list(SignatureReplay()(v, replace(ev, tx=replace(ev.tx, hash=TxHash(f"0x{n:064x}"))))) == []
    assert decodes == []


def test_calls_that_can_carry_a_signature_are_still_decoded(
    view: ChainView, decodes: list[tuple[str, ...]]
) -> None:
    info = _typed(view).protocol.contracts[VAULT]
    sig65 = R.to_bytes(32, "big") + S.to_bytes(32, "big") + bytes([27])
    claim = bytes.fromhex(selector("claim(uint256,bytes)")[2:]) + encode(["uint256", "bytes"], [E18, sig65])
    permit = bytes.fromhex(selector("permit(uint256,uint8,bytes32,bytes32)")[2:]) + encode(
        ["uint256", "uint8", "bytes32", "bytes32"], [E18, 27, R.to_bytes(32, "big"), S.to_bytes(32, "big")]
    )
    batch = bytes.fromhex(selector("batch((address,bytes)[])")[2:]) + encode(
        ["(address,bytes)[]"], [[(USER, sig65)]]
    )
    for data in (claim, permit, batch):
        [(shaped, canonical)] = calldata_signatures(info, data)
        assert not shaped and canonical[:32] == R.to_bytes(32, "big")
    assert len(decodes) == 3


def test_holdings_are_recorded_once_per_snapshot_not_per_transaction(
    view: ChainView, monkeypatch: pytest.MonkeyPatch
) -> None:
    det = InvariantBreak()
    observed: list[object] = []
    real = det.ledger.observe

    def counting(*args: Any) -> None:
        observed.append(args)
        real(*args)

    monkeypatch.setattr(det.ledger, "observe", counting)
    withdraw = call(
        USER, LENDING, "withdraw(uint256)", word(E18), logs=[transfer_log(USD, LENDING, USER, E18)]
    )
    for n in range(10):
        ev = event(withdraw, sender=USER)
        list(det(view, replace(ev, tx=replace(ev.tx, hash=TxHash(f"0x{n:064x}"), nonce=n))))
    assert len(observed) == len(view.state.holdings)
    # a new snapshot (the next head) is recorded again
    list(det(replace(view, state=replace(view.state, block_number=view.state.block_number + 1)), ev))
    assert len(observed) == 2 * len(view.state.holdings)


def test_a_slow_drain_still_counts_holdings_seen_only_through_snapshots(view: ChainView) -> None:
    """The window's base is the peak snapshot when the first outflow's holdings are unknown."""
    det = InvariantBreak.from_settings({"max_window_share": 0.25})
    held = view.state.holdings[(USD, LENDING)]
    flagged = []
    for n in range(1, 6):
        amount = held // 10
        raw = call(
            ATTACKER,
            LENDING,
            "withdraw(uint256)",
            word(amount),
            logs=[transfer_log(USD, LENDING, ATTACKER, amount)],
        )
        ev = event(raw)
        ev = replace(ev, tx=replace(ev.tx, hash=TxHash(f"0x{n:064x}"), nonce=n))
        holdings = {**view.state.holdings, (USD, LENDING): held}
        snap = replace(view.state, block_number=100 + n, holdings=holdings)
        flagged += [n for f in det(replace(view, state=snap), ev) if "within the window" in f.title]
        held -= amount
    assert flagged and flagged[0] == 3


def _ledger_screener() -> Screener:
    """A vault whose sources show a balance mapping (internal shares) and no native asset."""
    proto = synth_protocol()
    contracts = dict(proto.contracts)
    contracts[VAULT] = replace(contracts[VAULT], balance_maps=frozenset({3}))
    model = ProtocolModel(proto.name, contracts, proto.assets, proto.roles, proto.flash_lenders)
    return Screener(None, [Monitor("m", model, (), 0, True)])  # type: ignore[arg-type]


def _moved(args: bytes) -> dict[str, Any]:
    """A call into the vault that emits the vault's own event (not a Transfer)."""
    log = {"address": VAULT, "topics": ["0x" + "11" * 32], "data": "0x", "position": "0x0"}
    return call(ATTACKER, VAULT, "move(address,address,uint256)", args, logs=[log])


def test_a_ledger_call_naming_another_account_gets_its_storage_diff() -> None:
    s = _ledger_screener()
    # moves USER's internal shares: the vault logs its own event, no Transfer says whose balance fell
    foreign = event(_moved(word(USER) + word(ATTACKER) + word(E18)), sender=ATTACKER)
    assert s._needs_diff(foreign)
    # the caller's own shares (no other account named): the cheap path stays cheap
    own = event(_moved(word(0) + word(ATTACKER) + word(E18)), sender=ATTACKER)
    assert not s._needs_diff(own)
    # a vault that emits a Transfer for its shares is read from the logs, as before
    with_transfer = call(
        ATTACKER,
        VAULT,
        "move(address,address,uint256)",
        word(USER) + word(ATTACKER) + word(E18),
        logs=[transfer_log(VAULT, USER, ATTACKER, E18)],
    )
    assert not s._needs_diff(event(with_transfer, sender=ATTACKER))


def test_configured_privileged_entries_are_hashed_once_per_contract(monkeypatch: pytest.MonkeyPatch) -> None:
    info = replace(
        synth_protocol().contracts[VAULT],
        privileged=("sweep(address)", "0xdeadbeef", "retune"),
        abi=({"type": "function", "name": "retune", "inputs": [{"name": "x", "type": "uint256"}]},),
    )
    hashed: list[str] = []
    real = privileged.selector  # type: ignore[attr-defined]

    def counting(signature: str) -> Selector:
        hashed.append(signature)
        return real(signature)

    monkeypatch.setattr(privileged, "selector", counting)
    for _ in range(50):
        assert privileged_signature(info, real("sweep(address)")) == ("sweep(address)", ())
        assert privileged_signature(info, Selector("0xdeadbeef")) == ("0xdeadbeef", ())
        assert privileged_signature(info, real("retune(uint256)")) == ("retune(uint256)", ())
        assert privileged_signature(info, real("deposit(uint256)")) is None
    assert sorted(hashed) == ["retune(uint256)", "sweep(address)"]


def test_flash_loan_pools_are_derived_once_per_snapshot(
    view: ChainView, monkeypatch: pytest.MonkeyPatch
) -> None:
    derived: list[object] = []
    real = flashloan._pools

    def counting(v: ChainView) -> Any:
        derived.append(v.state)
        return real(v)

    monkeypatch.setattr(flashloan, "_pools", counting)
    det = FlashLoanPriceManipulation()
    # Paid out and back (a loan's shape: a transaction that cannot hold one is let go before this).
    swap = call(
        USER,
        LENDING,
        "withdraw(uint256)",
        word(E18),
        logs=[transfer_log(USD, LENDING, USER, E18), transfer_log(USD, USER, LENDING, E18)],
    )
    for _ in range(10):
        list(det(view, event(swap, sender=USER)))
    assert derived == [view.state]
    later = replace(view, state=replace(view.state, block_number=view.state.block_number + 1))
    list(det(later, event(swap, sender=USER)))
    assert derived == [view.state, later.state]
