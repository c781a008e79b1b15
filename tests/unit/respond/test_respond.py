"""Policy, guardian calldata, outbidding and the responder's hot path (fake relayer, real store)."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from eth_abi.abi import decode
from eth_utils.crypto import keccak

from bulwark.chain.client import TxRequest
from bulwark.chain.relayer import GWEI, Fees, Relayer, Sent, SignedTx
from bulwark.chain.signer import Signer
from bulwark.domain import (
    Action,
    Address,
    Confidence,
    Finding,
    IncidentState,
    Receipt,
    Selector,
    Severity,
    Transaction,
    TxHash,
    VulnClass,
)
from bulwark.respond import (
    PlannedAction,
    ProtectedSet,
    Responder,
    ResponsePolicy,
    ResponseRule,
    guardian_call,
    outbid,
    plan,
)
from bulwark.respond.responder import ordering
from bulwark.store import Store

A = Address("0x" + "aa" * 20)
B = Address("0x" + "bb" * 20)
GUARDIAN = Address("0x" + "99" * 20)
USD = Address("0x" + "11" * 20)
ATTACKER = Address("0x" + "de" * 20)
ROUTER = Address("0x" + "ad" * 20)
PROTECTED = ProtectedSet("demo", GUARDIAN, (A, B), {A: (USD,), B: ()})


def finding(**kw: Any) -> Finding:
    base: dict[str, Any] = {
        "detector": "invariant-outflow",
        "vuln_class": VulnClass.INVARIANT_BREAK,
        "severity": Severity.CRITICAL,
        "confidence": Confidence.HIGH,
        "title": "drain",
        "protocol": "demo",
        "contract": A,
        "tx_hash": TxHash("0x" + "01" * 32),
        "pending": True,
        "action": Action.PAUSE,
    }
    return Finding(**(base | kw))


def attack_tx(tip: int = 20 * GWEI, max_fee: int = 60 * GWEI) -> Transaction:
    return Transaction(
        hash=TxHash("0x" + "01" * 32),
        sender=ATTACKER,
        to=ROUTER,
        value=0,
        data=b"\x12\x34\x56\x78",
        nonce=3,
        gas=500_000,
        max_fee_per_gas=max_fee,
        max_priority_fee_per_gas=tip,
    )


def sel(sig: str) -> bytes:
    return keccak(text=sig)[:4]


# -- calldata --------------------------------------------------------------------------------------


def test_guardian_calldata() -> None:
    one = guardian_call(PlannedAction(Action.PAUSE, (A,)))
    assert one.data[:4] == sel("pause(address)") and decode(["address"], one.data[4:])[0] == A.lower()
    many = guardian_call(PlannedAction(Action.PAUSE, (A, B)))
    assert many.data[:4] == sel("pauseMany(address[])")
    assert [x.lower() for x in decode(["address[]"], many.data[4:])[0]] == [A.lower(), B.lower()]
    sels = guardian_call(PlannedAction(Action.PAUSE_SELECTORS, (A,), selectors=(Selector("0xdeadbeef"),)))
    assert sels.data[:4] == sel("pauseSelectors(address,bytes4[])")
    assert decode(["address", "bytes4[]"], sels.data[4:])[1] == (bytes.fromhex("deadbeef"),)
    block = guardian_call(PlannedAction(Action.BLOCK_ADDRESS, (A,), accounts=(ATTACKER, ROUTER)))
    assert block.data[:4] == sel("blockAccounts(address,address[])")
    trip = guardian_call(PlannedAction(Action.RATE_LIMIT, (A,), asset=USD))
    assert trip.data[:4] == sel("tripOutflowLimit(address,address)")
    for bad in (
        PlannedAction(Action.PAUSE, ()),
        PlannedAction(Action.PAUSE_SELECTORS, (A,)),
        PlannedAction(Action.BLOCK_ADDRESS, (A, B), accounts=(ATTACKER,)),
        PlannedAction(Action.RATE_LIMIT, (A,)),
        PlannedAction(Action.ALERT, (A,)),
    ):
        with pytest.raises(ValueError):
            guardian_call(bad)


# -- policy ----------------------------------------------------------------------------------------


def test_default_policy_pauses_the_protocol_on_high_and_only_alerts_below() -> None:
    (action,) = plan(finding(), PROTECTED)
    assert action.kind is Action.PAUSE and action.targets == (A, B)
    assert plan(finding(severity=Severity.HIGH), PROTECTED)
    assert plan(finding(severity=Severity.MEDIUM), PROTECTED) == ()
    assert plan(finding(protocol="other"), ProtectedSet("x", GUARDIAN, ())) == ()


def test_rules_match_in_order_and_map_every_action_kind() -> None:
    policy = ResponsePolicy(
        (
            ResponseRule(
                "oracle", (Action.PAUSE_SELECTORS,), classes=frozenset({VulnClass.ORACLE_MANIPULATION})
            ),
            ResponseRule(
                "everything",
                ("recommended", Action.BLOCK_ADDRESS, Action.RATE_LIMIT),
                min_severity=Severity.MEDIUM,
                pending_only=True,
            ),
        )
    )
    f = finding(vuln_class=VulnClass.ORACLE_MANIPULATION, function=Selector("0x12345678"))
    assert plan(f, PROTECTED, policy) == (
        PlannedAction(Action.PAUSE_SELECTORS, (A,), selectors=(Selector("0x12345678"),)),
    )
    # no selector to go on: the whole component
    assert plan(replace(f, function=None), PROTECTED, policy)[0].kind is Action.PAUSE
    got = plan(finding(severity=Severity.MEDIUM, action=Action.PAUSE), PROTECTED, policy, attack_tx())
    assert [a.kind for a in got] == [Action.PAUSE, Action.BLOCK_ADDRESS, Action.RATE_LIMIT]
    assert got[1].accounts == (ATTACKER, ROUTER) and got[2].asset == USD and got[2].targets == (A,)
    # mined findings are out of a pending_only rule
    assert plan(finding(severity=Severity.MEDIUM, pending=False), PROTECTED, policy) == ()
    # a target we do not protect: the protocol-wide fallback
    assert plan(finding(contract=USD), PROTECTED, ResponsePolicy((ResponseRule("t", (Action.PAUSE,)),)))[
        0
    ].targets == (A, B)


def test_outbid_orders_before_the_attack() -> None:
    base = 5 * GWEI
    fees = outbid(attack_tx(tip=20 * GWEI, max_fee=60 * GWEI), base)
    assert fees.tip == 41 * GWEI and fees.max_fee >= 60 * GWEI + fees.tip
    # effective tip (min(tip, max_fee - base)) beats the attack's
    assert min(fees.tip, fees.max_fee - base) > min(20 * GWEI, 60 * GWEI - base)
    legacy = replace(attack_tx(), max_fee_per_gas=None, max_priority_fee_per_gas=None, gas_price=30 * GWEI)
    assert outbid(legacy, base).tip == 61 * GWEI
    assert outbid(None, base) == Fees(max_fee=2 * base + 2 * GWEI, tip=2 * GWEI)


def test_ordering() -> None:
    def r(block: int, index: int) -> Receipt:
        return Receipt(TxHash("0x" + "02" * 32), True, block, "0x" + "00" * 32, index, 1, 1, None)  # type: ignore[arg-type]

    h = TxHash("0x" + "01" * 32)
    assert ordering(r(5, 0), r(5, 1), h) == "before-same-block"
    assert ordering(r(4, 9), r(5, 0), h) == "earlier-block"
    assert ordering(r(5, 2), r(5, 1), h) == "after"
    assert ordering(r(5, 0), None, h) == "attack-not-mined"
    assert ordering(r(5, 0), None, None) == "no-attack"


# -- responder -------------------------------------------------------------------------------------


class FakeRelayer(Relayer):
    """Signs for real, broadcasts into a list."""

    def __init__(self) -> None:
        super().__init__(client=None, signer=Signer("0x" + "4c" * 32))  # type: ignore[arg-type]
        self._chain_id = 31337
        self._next_nonce = 7
        self.base_fee = 3 * GWEI
        self.broadcasts: list[SignedTx] = []

    async def start(self) -> Any:  # no chain
        return None

    async def broadcast(self, signed: SignedTx) -> Sent:
        self.broadcasts.append(signed)
        return Sent(signed, "accepted", 0.0)

    async def resync_if_behind(self) -> None:
        return None


def test_responder_uses_the_presigned_pause_then_dedups_and_records(tmp_path: Path) -> None:
    store = Store(f"sqlite:///{tmp_path / 'b.db'}")
    store.migrate()
    relayer = FakeRelayer()
    clock = iter([100.0, 100.002, 100.003] + [101.0] * 10)
    responder = Responder(relayer, [PROTECTED], store=store, clock=lambda: next(clock))

    async def go() -> None:
        await responder.start()
        (c,) = await responder.respond(finding(), attack_tx(), seen_at=-0.01)
        assert c.presigned and relayer.broadcasts[0].nonce == 7 and relayer.next_nonce == 8
        assert relayer.broadcasts[0].fees.tip == 200 * GWEI  # the pre-signed bid covers 41 gwei
        assert c.response_ms == pytest.approx(10.0)
        # The same pause again (another detector, same attack): covered, nothing sent.
        (again,) = await responder.respond(finding(detector="reentrancy"), attack_tx())
        assert again.covered_by == c.tx_hash and len(relayer.broadcasts) == 1
        # A bigger attack tip than the pre-signed cap: signed fresh, outbidding it.
        r2 = Responder(relayer, [replace(PROTECTED, protocol="other")], store=None)
        r2.presign()
        (big,) = await r2.respond(finding(protocol="other"), attack_tx(tip=500 * GWEI, max_fee=900 * GWEI))
        assert not big.presigned and relayer.broadcasts[-1].fees.tip == 1001 * GWEI
        assert relayer.broadcasts[-1].nonce == 8
        iid = responder.record_sent(c)
        assert iid is not None
        (act,) = store.actions(iid)
        assert act.status == "sent" and act.tx_hash == c.tx_hash and act.data["attack_tx"] == attack_tx().hash
        assert store.incident(iid).state is IncidentState.DETECTED

    asyncio.run(go())
    store.close()


def test_dry_run_sends_nothing() -> None:
    relayer = FakeRelayer()
    responder = Responder(relayer, [PROTECTED], dry_run=True)

    async def go() -> None:
        await responder.start()
        (c,) = await responder.respond(finding(), attack_tx())
        assert c.dry_run and c.tx_hash is None and relayer.broadcasts == []

    asyncio.run(go())


def test_presign_signs_the_protocol_pause_for_the_next_nonce() -> None:
    relayer = FakeRelayer()
    responder = Responder(relayer, [PROTECTED])
    responder.presign()
    (pre,) = responder._presigned.values()
    assert pre.nonce == 7 and pre.request.to == GUARDIAN
    assert pre.request.data == guardian_call(PlannedAction(Action.PAUSE, (A, B))).data
    assert isinstance(pre.request, TxRequest) and pre.request.gas == 400_000


def test_findings_of_one_attack_by_several_detectors_are_one_incident(tmp_path: Path) -> None:
    """Two detectors flag the same transaction: one incident (one patch, one proposal), both
    findings on it; another attack opens its own."""
    store = Store(f"sqlite:///{tmp_path / 'b.db'}")
    responder = Responder(FakeRelayer(), [PROTECTED], store=store)

    async def go() -> None:
        (c,) = await responder.respond(finding(), attack_tx())
        (again,) = await responder.respond(finding(detector="reentrancy"), attack_tx())
        first, second = responder.record_sent(c), responder.record_sent(again)
        assert first is not None and first == second
        assert {f["detector"] for f in store.findings(first)} == {"invariant-outflow", "reentrancy"}
        other = finding(detector="probe-move", contract=B, tx_hash=TxHash("0x" + "02" * 32))
        (c3,) = await responder.respond(other, replace(attack_tx(), hash=other.tx_hash))
        assert responder.record_sent(c3) not in (None, first)

    asyncio.run(go())
    store.close()
