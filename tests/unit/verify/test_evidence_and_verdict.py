"""Evidence hashing, the attack-blocked rule and the per-transaction comparison (pure parts)."""

from __future__ import annotations

from dataclasses import replace

from hypothesis import given
from hypothesis import strategies as st

from bulwark.domain.canonical import to_jsonable
from bulwark.domain.verify import (
    AttackReplay,
    BalanceChange,
    Check,
    CostReport,
    FunctionGas,
    InvariantResult,
    Reason,
    TxOutcome,
)
from bulwark.fork.regress import broken, compare
from bulwark.verify.cost import cost_reasons
from bulwark.verify.evidence import make_evidence, verify_evidence
from bulwark.verify.sources import strip_metadata

USD, WETH = "0xusd", "0xweth"

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6), inner, max_size=4),
    max_leaves=20,
)


@given(st.dictionaries(st.text(max_size=6), json_values, max_size=6))
def test_evidence_hash_is_independent_of_key_order(doc: dict[str, object]) -> None:
    a = make_evidence(doc)
    b = make_evidence(dict(reversed(list(doc.items()))))
    assert a.hash == b.hash and verify_evidence(a)


def test_evidence_hash_changes_with_content_and_detects_tampering() -> None:
    reason = Reason(Check.SAFETY, "selector-removed", "f()", "gone")
    a = make_evidence({"reasons": [reason], "pass": False})
    assert a.document["reasons"][0]["check"] == "safety"  # enums and dataclasses become JSON
    b = make_evidence({"reasons": [replace(reason, subject="g()")], "pass": False})
    assert a.hash != b.hash
    tampered = replace(a, document={**a.document, "pass": True})
    assert not verify_evidence(tampered)


def test_to_jsonable_bytes_sets_and_tuples() -> None:
    assert to_jsonable({"b": b"\x01", "s": frozenset({"z", "a"}), "t": (1, 2)}) == {
        "b": "0x01",
        "s": ["a", "z"],
        "t": [1, 2],
    }


def attack(net: list[BalanceChange], **kw: object) -> AttackReplay:
    return AttackReplay(0, "test", (), (), (), (USD, WETH), tuple(net), tuple(net), **kw)  # type: ignore[arg-type]


def test_attack_blocked_rule_per_asset_and_by_value() -> None:
    assert attack([BalanceChange("victims", USD, 100, 100)]).blocked
    assert not attack([BalanceChange("victims", USD, 100, 90)]).blocked
    assert not attack([BalanceChange("attackers", USD, 0, 1)]).blocked
    # collateral posted (WETH in) against a loan (USD out): a loss per asset, not by value
    loan = [
        BalanceChange("victims", USD, 1000, 850),
        BalanceChange("victims", WETH, 0, 100),
        BalanceChange("attackers", USD, 0, 150),
        BalanceChange("attackers", WETH, 100, 0),
    ]
    assert not attack(loan).blocked
    assert attack(loan, prices={USD: 10**18, WETH: 2 * 10**18}).blocked
    assert not attack(loan, prices={USD: 10**18, WETH: 10**18 // 100}).blocked
    assert not attack([], invariants=(InvariantResult("solvent", False, 1, "x"),)).blocked
    assert not attack([], poc_passed=True).blocked


def outcome(tx: str, status: bool = True, ret: str = "0x", state: dict | None = None) -> TxOutcome:  # type: ignore[type-arg]
    return TxOutcome(tx, status, 21000, ret, (), state or {})


def test_compare_reports_every_difference_and_only_new_reverts_are_broken() -> None:
    original = [outcome("a"), outcome("b"), outcome("c", status=False), outcome("d", ret="0x01")]
    patched = [outcome("a"), outcome("b", status=False), outcome("c"), outcome("d", ret="0x02")]
    report = compare(7, original, patched)
    assert report.replayed == 4
    assert {(d.tx_hash, d.aspect) for d in report.differences} == {
        ("b", "status"),
        ("c", "status"),
        ("d", "return"),
    }
    assert broken(report) == ("b",)
    assert report.regressed_txs[0] == "b"


def test_state_differences_are_reported() -> None:
    o = outcome("a", state={"0xv": {"0x01": ("0x00", "0x05")}})
    p = outcome("a", state={"0xv": {"0x01": ("0x00", "0x06")}})
    (diff,) = compare(1, [o], [p]).differences
    assert diff.aspect == "state"


def test_cost_size_limit_and_gas_budget() -> None:
    report = CostReport((FunctionGas("0x01", "f()", 3, 100, 130),), 1000, 24_577)
    codes = {r.code for r in cost_reasons(report, max_overhead_pct=10.0)}
    assert codes == {"code-size", "gas-overhead"}
    assert report.max_overhead_pct == 30.0
    assert cost_reasons(CostReport((), 1000, 24_576)) == ()


def test_strip_metadata() -> None:
    trailer = bytes.fromhex("a264697066735822") + b"\x00" * 43
    code = b"\x60\x80" + trailer + len(trailer).to_bytes(2, "big")
    assert strip_metadata(code) == b"\x60\x80"
