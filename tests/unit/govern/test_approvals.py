"""Signature checks (pure): owner, eligibility, duplicate, wrong hash, expiry; proposal JSON round trip."""

from __future__ import annotations

import pytest
from eth_account import Account

from bulwark.chain.safe import checksum
from bulwark.domain import Address, Hash32, Severity
from bulwark.domain.govern import (
    ActionRule,
    GovAction,
    Policy,
    Proposal,
    ProposalState,
    SignatureStatus,
    TimelockOp,
    can_move,
)
from bulwark.errors import SignatureRejected
from bulwark.govern import check_approval, sign
from bulwark.govern.proposal import _safe_txs

KEYS = ["0x" + f"{i:064x}" for i in (11, 12, 13, 14)]
ADDR = [checksum(Account.from_key(k).address) for k in KEYS]
SAFE = Address("0x5FbDB2315678afecb367f032d93F642f64180aa3")
TL = Address("0xe7f1725E7734CE288F8367e1Bb143E90bb3F0512")
PROXY = Address("0x9fE46736679d2D9a65F0992F2272dE9f3c7fa6e0")
MS = Address("0xCf7Ed3AccA5a467e9e704C703E8D87F634fB0Fc9")
H = Hash32("0x" + "ab" * 32)
Z = Hash32("0x" + "00" * 32)


def _policy(delay: int) -> Policy:
    return Policy(
        protocol="demo",
        safe=SAFE,
        timelock=TL,
        proxies={"vault": PROXY},
        owners=tuple(ADDR[:3]),
        safe_threshold=2,
        rules={(GovAction.UPGRADE, None): ActionRule(2, delay, tuple(ADDR[:2]))},
        multisend=MS,
    )


def _proposal(nonce: int = 5, delay: int = 60) -> Proposal:
    op = TimelockOp(target=PROXY, data="0x1234", predecessor=Z, salt=H, delay_s=delay, operation_id=H)
    txs = _safe_txs(_policy(delay), 31337, op, nonce, batch=delay == 0)
    return Proposal(
        id=f"prop-{nonce}",
        protocol="demo",
        action=GovAction.UPGRADE,
        severity=Severity.CRITICAL,
        chain_id=31337,
        safe=SAFE,
        timelock=TL,
        component="vault",
        proxy=PROXY,
        evidence_hash=H,
        timelock_op=op,
        safe_txs=txs,
        threshold=2,
        eligible=tuple(ADDR[:2]),
        created_at=1000.0,
        expires_at=2000.0,
        description="test",
        implementation=ADDR[3],
        implementation_codehash=H,
    )


def _check(
    p: Proposal,
    signer: str,
    blob: bytes,
    *,
    already: tuple[str, ...] = (),
    now: float = 1500.0,
    state: ProposalState = ProposalState.PENDING,
) -> Address:
    return check_approval(p, state, signer, blob, ADDR[:3], already, now)


def test_an_eligible_owner_signature_over_every_tx_is_accepted() -> None:
    p = _proposal()
    assert len(p.safe_txs) == 2 and p.safe_txs[1].nonce == 6
    assert _check(p, ADDR[0], sign(p, KEYS[0])) == ADDR[0]


def test_zero_delay_is_one_multisend_delegatecall() -> None:
    p = _proposal(delay=0)
    assert [t.step for t in p.safe_txs] == ["schedule+execute"]
    assert p.safe_txs[0].to == MS and p.safe_txs[0].operation == 1
    assert len(sign(p, KEYS[0])) == 65


def test_non_owner_ineligible_owner_duplicate_are_rejected() -> None:
    p = _proposal()
    with pytest.raises(SignatureRejected, match="not an owner"):
        _check(p, ADDR[3], sign(p, KEYS[3]))
    with pytest.raises(SignatureRejected, match="may not sign"):
        _check(p, ADDR[2], sign(p, KEYS[2]))
    with pytest.raises(SignatureRejected, match="already signed"):
        _check(p, ADDR[0], sign(p, KEYS[0]), already=(ADDR[0].lower(),))


def test_signature_over_another_proposal_or_by_another_key_is_rejected() -> None:
    p, other = _proposal(nonce=5), _proposal(nonce=9)
    with pytest.raises(SignatureRejected, match="not over proposal"):
        _check(p, ADDR[0], sign(other, KEYS[0]))
    with pytest.raises(SignatureRejected, match="not over proposal"):
        _check(p, ADDR[0], sign(p, KEYS[1]))
    with pytest.raises(SignatureRejected, match="needs 2 signature"):
        _check(p, ADDR[0], sign(p, KEYS[0])[:65])
    with pytest.raises(SignatureRejected, match="malformed"):
        _check(p, ADDR[0], b"\x01" * 64)


def test_expired_rejected_or_executed_proposals_take_no_signature() -> None:
    p = _proposal()
    with pytest.raises(SignatureRejected, match="expired"):
        _check(p, ADDR[0], sign(p, KEYS[0]), now=2000.5)
    for state in (ProposalState.REJECTED, ProposalState.EXECUTED, ProposalState.SCHEDULED):
        with pytest.raises(SignatureRejected):
            _check(p, ADDR[0], sign(p, KEYS[0]), state=state)


def test_proposal_json_round_trip() -> None:
    p = _proposal()
    assert Proposal.from_json(p.to_json()) == p


def test_status_missing_and_met() -> None:
    st = SignatureStatus("p", ProposalState.PENDING, 2, tuple(ADDR[:3]), signed=(ADDR[1],))
    assert st.missing == (ADDR[0], ADDR[2]) and not st.met
    st2 = SignatureStatus("p", ProposalState.PENDING, 2, tuple(ADDR[:3]), signed=(ADDR[1], ADDR[0]))
    assert st2.met
    vetoed = SignatureStatus("p", ProposalState.REJECTED, 2, tuple(ADDR[:3]), (ADDR[1], ADDR[0]), (ADDR[2],))
    assert not vetoed.met


def test_state_machine_terminal_states() -> None:
    assert can_move(ProposalState.PENDING, ProposalState.APPROVED)
    assert not can_move(ProposalState.PENDING, ProposalState.EXECUTED)  # no signatures, no execution
    assert not can_move(ProposalState.REJECTED, ProposalState.APPROVED)
    assert not can_move(ProposalState.EXECUTED, ProposalState.FAILED)
