"""The detectors' cheap exits: each skips only transactions that cannot hold its finding (a
necessary condition of the finding, checked before the expensive walk). Per exit, a transaction the
detector must still find is found, and one that cannot concern it never reaches the costly part."""

from __future__ import annotations

import random
from dataclasses import replace
from typing import Any

import pytest
from eth_abi.abi import decode, encode
from tests.unit.detect.synth import (
    ATTACK_CONTRACT,
    ATTACKER,
    E18,
    LENDING,
    ORACLE,
    POOL,
    USD,
    USER,
    VAULT,
    WETH,
    ZERO,
    addr,
    call,
    event,
    transfer_log,
    word,
)

from bulwark.detect.builtins import flashloan, invariant, mint_pricing, privileged, signature_replay
from bulwark.detect.builtins.flashloan import FlashLoanParams, FlashLoanPriceManipulation
from bulwark.detect.builtins.invariant import InvariantBreak
from bulwark.detect.builtins.mint_pricing import DEPOSIT, MispricedMint
from bulwark.detect.builtins.privileged import UnauthorisedPrivilegedCall
from bulwark.detect.builtins.rules import DeclarativeRules, RulesParams
from bulwark.detect.builtins.signature_replay import SignatureReplay, calldata_signatures
from bulwark.detect.evm import selector
from bulwark.detect.model import ChainView, ProtocolModel, TxEvent
from bulwark.detect.trace import flash_loans
from bulwark.domain import Address, TxHash, VulnClass

LENDER = addr(0x32)  # a lender no list knows: loans are recognised from the call tree's shape
R, S = 0x1234 << 200, 0x5678 << 190
SIG65 = R.to_bytes(32, "big") + S.to_bytes(32, "big") + bytes([27])


def _counting(monkeypatch: pytest.MonkeyPatch, module: Any, name: str) -> list[object]:
    """Patch ``module.name`` to record each call (then run the real one)."""
    seen: list[object] = []
    real = getattr(module, name)

    def wrapper(*args: Any, **kwargs: Any) -> Any:
        seen.append(args)
        return real(*args, **kwargs)

    monkeypatch.setattr(module, name, wrapper)
    return seen


def _numbered(ev: TxEvent, n: int) -> TxEvent:
    return replace(ev, tx=replace(ev.tx, hash=TxHash(f"0x{n:064x}"), nonce=n))


def _loan(body: list[dict[str, Any]], amount: int = 500_000 * E18) -> dict[str, Any]:
    """ATTACK_CONTRACT borrows USD from LENDER through an unknown entry point and a callback."""
    give = call(
        LENDER, USD, "transfer(address,uint256)", logs=[transfer_log(USD, LENDER, ATTACK_CONTRACT, amount)]
    )
    back = call(
        ATTACK_CONTRACT,
        USD,
        "transfer(address,uint256)",
        logs=[transfer_log(USD, ATTACK_CONTRACT, LENDER, amount)],
    )
    hook = call(LENDER, ATTACK_CONTRACT, "whenLent(uint256)", calls=[*body, back])
    return call(ATTACKER, ATTACK_CONTRACT,
                calls=[call(ATTACK_CONTRACT, LENDER, "lend(uint256)", calls=[give, hook])])  # fmt: skip


def _swap(amount_in: int, amount_out: int, trader: Address = USER) -> dict[str, Any]:
    """The trader sells USD for WETH on the pool: it moves the pool's reserves but lends nothing."""
    pay = transfer_log(USD, trader, POOL, amount_in)
    get = transfer_log(WETH, POOL, trader, amount_out)
    return call(trader, POOL, "swap(uint256,uint256,address,bytes)", calls=[
        call(POOL, USD, "transferFrom(address,address,uint256)", logs=[pay]),
        call(POOL, WETH, "transfer(address,uint256)", logs=[get]),
    ])  # fmt: skip


# -- flash loans: a loan's shape (value out of an account and back to it) before flash_loans() ----


def test_may_lend_is_a_necessary_condition_of_every_loan_found() -> None:
    """Over seeded random call trees (token and native-coin round trips, mints, reverts), every
    transaction in which flash_loans() finds a loan has may_lend(); and many are ruled out."""
    rng = random.Random(20261207)
    who = [USD, WETH, POOL, LENDING, VAULT, ATTACKER, ATTACK_CONTRACT, USER, LENDER]
    amounts = [0, 1, E18, 500 * E18]

    def frame(depth: int, sender: Address) -> dict[str, Any]:
        to = rng.choice(who)
        kids = [frame(depth + 1, to) for _ in range(rng.choice([0, 1, 2, 3]))] if depth < 4 else []
        logs = [
            transfer_log(rng.choice([USD, WETH]), rng.choice([*who, ZERO]), rng.choice(who),
                         rng.choice(amounts), rng.randint(0, len(kids)))
            for _ in range(rng.choice([0, 1, 2]))
        ]  # fmt: skip
        error = "reverted" if rng.random() < 0.05 else None
        return call(sender, to, "f(uint256)", word(depth), calls=kids or None, logs=logs or None,
                    value=rng.choice([0, 0, E18]), error=error)  # fmt: skip

    found = skipped = 0
    for _ in range(1500):
        ev = event(frame(0, ATTACKER))
        if flash_loans(ev.steps):
            found += 1
            assert ev.may_lend()
        elif not ev.may_lend():
            skipped += 1
    assert found >= 50 and skipped >= 300  # both sides exercised (the test can fail)


def test_may_lend_on_shapes() -> None:
    assert event(_loan([])).may_lend()
    hook = call(LENDER, ATTACK_CONTRACT, "whenLent(uint256)", value=10 * E18,
                calls=[call(ATTACK_CONTRACT, LENDER, "repay()", value=10 * E18)])  # fmt: skip
    native = event(
        call(ATTACKER, ATTACK_CONTRACT, calls=[call(ATTACK_CONTRACT, LENDER, "lend(uint256)", calls=[hook])])
    )
    assert flash_loans(native.steps) and native.may_lend()
    assert not event(_swap(10_000 * E18, 5 * E18)).may_lend()  # one token in, another out
    mint_then_send = call(
        USER, USD, "mint()", logs=[transfer_log(USD, ZERO, USER, E18), transfer_log(USD, USER, ZERO, E18)]
    )
    assert not event(mint_then_send).may_lend()  # a mint lends nothing (zero sent, never repaid)


def test_a_loan_financed_manipulation_is_found_and_a_plain_swap_never_walks_for_loans(
    view: ChainView, monkeypatch: pytest.MonkeyPatch
) -> None:
    walked = _counting(monkeypatch, flashloan, "flash_loans")
    det = FlashLoanPriceManipulation()
    # the pool's price pushed ~21% while the lending market reads it, inside a loan from an
    # unknown lender: found, as before
    push = _swap(200_000 * E18, 90 * E18, trader=ATTACK_CONTRACT)
    use = call(
        ATTACK_CONTRACT,
        LENDING,
        "borrow(uint256)",
        calls=[call(LENDING, POOL, "getReserves()", typ="STATICCALL")],
    )
    [f] = list(det(view, event(_loan([push, use]), sender=ATTACKER)))
    assert f.contract == LENDING and f.evidence["pool"] == POOL and f.evidence["flash_loan"]
    assert len(walked) == 1
    # a swap moves the pool's reserves but sends nothing back to where it came from: not walked
    for n in range(20):
        assert list(det(view, _numbered(event(_swap(10_000 * E18, 5 * E18), sender=USER), n))) == []
    assert len(walked) == 1
    # without the loan requirement the same swaps are judged in full (no exit taken)
    loose = FlashLoanPriceManipulation(FlashLoanParams(require_flash_loan=False))
    [g] = list(loose(view, event(call(ATTACKER, ATTACK_CONTRACT, calls=[push, use]), sender=ATTACKER)))
    assert g.contract == LENDING and not g.evidence["flash_loan"]


def test_a_named_flash_loan_entry_point_still_counts_without_a_round_trip(view: ChainView) -> None:
    """ERC-3156 ``flashLoan`` called (its selector compared as bytes): an outflow inside is found
    even when the repayment is not in the trace's Transfer logs."""
    drain = call(
        LENDING,
        USD,
        "transfer(address,uint256)",
        logs=[transfer_log(USD, LENDING, ATTACK_CONTRACT, 150_000 * E18)],
    )
    body = call(ATTACK_CONTRACT, LENDING, "redeem(uint256)", calls=[drain])
    raw = call(ATTACKER, ATTACK_CONTRACT, calls=[
        call(ATTACK_CONTRACT, LENDER, "flashLoan(address,address,uint256,bytes)", calls=[body])])  # fmt: skip
    ev = event(raw, sender=ATTACKER)
    assert not ev.may_lend()
    [f] = list(FlashLoanPriceManipulation()(view, ev))
    assert f.contract == LENDING and f.evidence["outflow_share"] == 0.15


# -- signature replay: a 64/65-byte ``bytes`` needs its length word in the calldata ----------------

ABI = (
    {"type": "function", "name": "claim",
     "inputs": [{"name": "amount", "type": "uint256"}, {"name": "sig", "type": "bytes"}]},
    {"type": "function", "name": "deposit",
     "inputs": [{"name": "amount", "type": "uint256"}, {"name": "to", "type": "address"}]},
)  # fmt: skip


def _typed(view: ChainView) -> ChainView:
    p = view.protocol
    contracts = {**p.contracts, VAULT: replace(p.contracts[VAULT], abi=ABI)}
    return ChainView(ProtocolModel(p.name, contracts, p.assets, p.roles, p.flash_lenders), view.state)


def test_a_bytes_argument_without_a_signature_length_is_not_decoded(
    view: ChainView, monkeypatch: pytest.MonkeyPatch
) -> None:
    decodes = _counting(monkeypatch, signature_replay, "decode")
    v = _typed(view)
    info = v.protocol.contracts[VAULT]
    claim = bytes.fromhex(selector("claim(uint256,bytes)")[2:])
    for payload in (b"", b"\x01" * 40, b"\x02" * 66, b"\x03" * 200):
        assert calldata_signatures(info, claim + encode(["uint256", "bytes"], [E18, payload])) == []
    assert decodes == []
    # a 65-byte and a 64-byte (compact) signature are still read, and a replay of one is found
    compact = R.to_bytes(32, "big") + S.to_bytes(32, "big")
    for sig in (SIG65, compact):
        [(shaped, canonical)] = calldata_signatures(info, claim + encode(["uint256", "bytes"], [E18, sig]))
        assert not shaped and canonical[:32] == R.to_bytes(32, "big")
    det = SignatureReplay()
    use = call(ATTACKER, VAULT, "claim(uint256,bytes)", encode(["uint256", "bytes"], [E18, SIG65]),
               calls=[call(VAULT, Address("0x" + "00" * 19 + "01"), None, b"\x11" * 128, typ="STATICCALL",
                           output=word(USER))])  # fmt: skip
    assert list(det(v, _numbered(event(use, pending=False), 1))) == []
    [f] = list(det(v, _numbered(event(use, pending=False), 2)))
    assert f.contract == VAULT and f.vuln_class is VulnClass.SIGNATURE_REPLAY


def test_the_length_check_is_a_necessary_condition_of_a_decoded_signature(view: ChainView) -> None:
    """Seeded random calldata (odd offsets, lengths near 64/65, short data): whenever the decoder
    would read a signature, the cheap check lets the call through to it."""
    rng = random.Random(7)
    types = ("address", "bytes", "uint256", "bytes")
    info = replace(
        view.protocol.contracts[VAULT],
        abi=(
            {
                "type": "function",
                "name": "f",
                "inputs": [{"name": f"a{i}", "type": t} for i, t in enumerate(types)],
            },
        ),
    )
    head = bytes.fromhex(selector("f(address,bytes,uint256,bytes)")[2:])
    signature_replay._abi_inputs(info.abi)  # the tables the detector builds
    decoded = skipped = 0
    for _ in range(3000):
        words = [rng.choice([0, 32, 64, 65, 96, 128, 160, 192, 200, 2**255]) for _ in range(10)]
        data = head + b"".join(w.to_bytes(32, "big") for w in words) + bytes(rng.randrange(0, 40))
        data += R.to_bytes(32, "big") * rng.randrange(0, 4)
        try:
            values = decode(list(types), data[4:])
        except Exception:
            values = None
        found: list[bytes] = []
        if values is not None:
            signature_replay._walk(list(types), list(values), found)
        if found:
            decoded += 1
            assert signature_replay._may_be_signed(types, data)
        elif not signature_replay._may_be_signed(types, data):
            skipped += 1
    assert decoded >= 20 and skipped >= 300


def test_the_signature_tables_are_built_once_per_protocol(
    view: ChainView, monkeypatch: pytest.MonkeyPatch
) -> None:
    tables = _counting(monkeypatch, signature_replay, "_abi_inputs")
    v = _typed(view)
    det = SignatureReplay()
    deposit = call(USER, VAULT, "deposit(uint256,address)", encode(["uint256", "address"], [E18, USER]))
    for n in range(30):
        assert list(det(v, _numbered(event(deposit), n))) == []
    assert len(tables) <= len(v.protocol.contracts)  # per contract once, not per call screened


# -- privileged calls: one table lookup per call before any role is resolved ---------------------


def test_privileged_calls_are_found_and_others_never_resolve_a_signature(
    view: ChainView, monkeypatch: pytest.MonkeyPatch
) -> None:
    p = view.protocol
    abi = ({"type": "function", "name": "retune", "inputs": [{"name": "x", "type": "uint256"}]},)
    vault = replace(
        p.contracts[VAULT], abi=abi, privileged=("sweep(address)", "0xdeadbeef", "retune", "0xZZ")
    )
    v = ChainView(ProtocolModel(p.name, {**p.contracts, VAULT: vault}, p.assets, p.roles), view.state)
    det = UnauthorisedPrivilegedCall()
    list(det(v, event(call(USER, VAULT, "deposit(uint256)", word(E18)))))  # tables built here
    resolved = _counting(monkeypatch, privileged, "privileged_signature")
    for n in range(20):
        assert list(det(v, _numbered(event(call(USER, VAULT, "deposit(uint256)", word(E18))), n))) == []
    assert resolved == []
    for sig, args in (("transferOwnership(address)", word(ATTACKER)), ("sweep(address)", word(ATTACKER)),
                      ("retune(uint256)", word(1))):  # fmt: skip
        [f] = list(det(v, event(call(ATTACKER, VAULT, sig, args))))
        assert f.function == selector(sig) and f.contract == VAULT
    [f] = list(det(v, event({**call(ATTACKER, VAULT), "input": "0xdeadbeef"})))
    assert f.function == "0xdeadbeef"
    # a static or delegate frame is no privileged call of its own
    assert (
        list(
            det(
                v,
                event(call(ATTACKER, VAULT, "transferOwnership(address)", word(ATTACKER), typ="STATICCALL")),
            )
        )
        == []
    )


# -- mispriced mint: the price compared by cross-multiplication, exactly ---------------------------


def _deposit(assets: int, shares: int) -> dict[str, Any]:
    log = {
        "address": VAULT.lower(),
        "topics": [DEPOSIT, "0x" + "00" * 12 + USER[2:].lower(), "0x" + "00" * 12 + USER[2:].lower()],
        "data": "0x" + (word(assets) + word(shares)).hex(),
    }
    return call(USER, VAULT, "deposit(uint256,address)", logs=[log])


def test_mint_price_bound_is_exact_and_honest_deposits_build_no_fraction(
    view: ChainView, monkeypatch: pytest.MonkeyPatch
) -> None:
    det = MispricedMint()  # max_discount 0.5: a mint paying less than half the price is found
    fractions = _counting(monkeypatch, mint_pricing, "Fraction")
    st = view.state.vaults[VAULT]  # 1e-6 assets per share
    shares = 10**30
    fair = shares * st.total_assets // st.total_supply
    assert list(det(view, event(_deposit(fair, shares)))) == []
    assert list(det(view, event(_deposit(fair // 2, shares)))) == []  # exactly half: at the bound
    assert fractions == []
    [f] = list(det(view, event(_deposit(fair // 2 - 1, shares))))
    assert f.contract == VAULT and f.evidence["shares"] == str(shares)


# -- declarative rules: none configured, nothing derived per transaction --------------------------


def test_no_rules_configured_compiles_nothing_and_a_rule_still_matches(
    view: ChainView, monkeypatch: pytest.MonkeyPatch
) -> None:
    idle = DeclarativeRules()
    compiled = _counting(monkeypatch, idle, "compile")
    for n in range(10):
        assert list(idle(view, _numbered(event(call(USER, VAULT, "deposit(uint256)", word(E18))), n))) == []
    assert compiled == []
    rule = {"name": "big", "when": "tx", "expr": "tx.value > 5"}
    det = DeclarativeRules(RulesParams.model_validate({"rules": [rule]}))
    [f] = list(det(view, event(call(USER, VAULT, "deposit(uint256)", word(E18), value=6))))
    assert f.title.startswith("rule big")


# -- invariant break: a sender's window is built once, and oracle moves are still found -----------


def test_a_senders_window_is_built_once_and_oracle_moves_are_found(
    view: ChainView, monkeypatch: pytest.MonkeyPatch
) -> None:
    built = _counting(monkeypatch, invariant, "_Window")
    det = InvariantBreak()
    withdraw = call(
        USER, LENDING, "withdraw(uint256)", word(E18), logs=[transfer_log(USD, LENDING, USER, E18)]
    )
    for n in range(10):
        assert list(det(view, _numbered(event(withdraw, sender=USER), n))) == []
    assert len(built) == 1
    price = view.state.oracle_prices[(ORACLE, WETH)]
    set_price = call(ATTACKER, ORACLE, "setPrice(address,uint256)", word(WETH) + word(price * 2))
    [f] = list(det(view, event(set_price, sender=ATTACKER)))
    assert f.contract == ORACLE and f.vuln_class is VulnClass.ORACLE_MANIPULATION
    assert list(det(view, event(replace_sig(set_price, "setPrices(address,uint256)"), sender=ATTACKER))) == []


def replace_sig(raw: dict[str, Any], sig: str) -> dict[str, Any]:
    return {**raw, "input": selector(sig) + raw["input"][10:]}


# -- what every detector reads of an event, derived in one pass --------------------------------------


def test_calls_logs_and_transfers_are_derived_together_and_as_before() -> None:
    """One pass fills all three; a reverted frame's logs and Transfers are left out, a mint kept."""
    failed = call(LENDING, USD, "transfer(address,uint256)", error="reverted",
                  logs=[transfer_log(USD, LENDING, ATTACKER, E18)])  # fmt: skip
    pull = transfer_log(USD, USER, VAULT, 2 * E18)
    minted = [transfer_log(VAULT, ZERO, USER, 3 * E18, 0), _deposit(E18, E18)["logs"][0]]
    raw = call(USER, VAULT, "deposit(uint256)", word(E18), calls=[
        call(VAULT, USD, "transferFrom(address,address,uint256)", logs=[pull]),
        failed,
        call(VAULT, VAULT, "mint()", logs=minted),
    ])  # fmt: skip
    ev = event(raw)
    assert [s.frame.to for s in ev.calls() if s.frame is not None] == [VAULT, USD, USD, VAULT]
    assert ev._logs is not None and ev._transfers is not None  # filled by the same pass
    assert [lg.address for lg in ev.logs] == [USD, VAULT, VAULT]
    assert [(t[1], t[2], t[3], t[4]) for t in ev.transfers()] == [
        (USD, USER, VAULT, 2 * E18),
        (VAULT, ZERO, USER, 3 * E18),
    ]
    assert [ev.steps[t[0]].log for t in ev.transfers()] == [ev.logs[0], ev.logs[1]]
    assert ev.flows() == {
        (USD, USER): -2 * E18,
        (USD, VAULT): 2 * E18,
        (VAULT, ZERO): -3 * E18,
        (VAULT, USER): 3 * E18,
    }
