"""Governance and execution on the demo protocol: Safe 2-of-3 -> timelock -> upgrade -> resume."""

from __future__ import annotations

import dataclasses

import pytest
from tests.e2e.govern.conftest import EMERGENCY_DELAY, GovEnv

from bulwark.chain import CallReverted, TxRequest
from bulwark.chain.abi import encode_call
from bulwark.chain.eip1967 import implementation_of
from bulwark.chain.safe import ZERO_ADDRESS, pack_signatures
from bulwark.chain.timelock import TIMELOCK_ABI, safe_abi
from bulwark.domain import Finding, Severity
from bulwark.domain.govern import ProposalState
from bulwark.domain.incident import Confidence, IncidentState, VulnClass
from bulwark.errors import (
    PolicyMismatch,
    PostCheckFailed,
    ProposalStateError,
    SignatureRejected,
    TamperedCandidate,
)
from bulwark.execute import execute_upgrade, resume
from bulwark.govern import approve, check_policy, propose_unpause, propose_upgrade, reject, sign, status
from bulwark.govern.proposal import load
from bulwark.store import Store

pytestmark = pytest.mark.e2e


def _pause_vault(g: GovEnv) -> None:
    p = g.env.protocol
    g.env.send(p.sentinel, "guardian", "pause", p.address("vault"))
    assert g.env.call("vault", "paused") is True


def _propose(g: GovEnv, **kw: object):  # type: ignore[no-untyped-def]
    p = g.env.protocol
    return g.env.run(
        propose_upgrade(
            g.env.client,
            g.store,
            g.policy,
            kw.pop("verdict", g.verdict()),  # type: ignore[arg-type]
            component="vault",
            implementation=kw.pop("implementation", g.vault_code),  # type: ignore[arg-type]
            deployer=p.spare[0].address,
            severity=kw.pop("severity", Severity.CRITICAL),  # type: ignore[arg-type]
            **kw,  # type: ignore[arg-type]
        )
    )


def _approve(g: GovEnv, pid: str, i: int, **kw: object):  # type: ignore[no-untyped-def]
    key = g.env.protocol.safe_owners[i].private_key
    return g.env.run(approve(g.env.client, g.store, pid, key, **kw))  # type: ignore[arg-type]


def test_policy_matches_the_demo_chain_and_a_mismatch_is_named(gov: GovEnv) -> None:
    gov.env.run(check_policy(gov.env.client, gov.policy))
    p = gov.env.protocol
    wrong = dataclasses.replace(
        gov.policy,
        safe_threshold=3,
        owners=(*gov.policy.owners[:2], p.users[2].address),
        council=gov.policy.owners[:2],
    )
    with pytest.raises(PolicyMismatch) as err:
        gov.env.run(check_policy(gov.env.client, wrong))
    msg = err.value.user_message
    assert "Safe threshold is 2 on chain, 3 in the policy" in msg
    assert f"{p.users[2].address} is configured as a Safe owner but is not one on chain" in msg
    assert f"Safe owner {p.safe_owners[2].address} on chain is missing" in msg
    sentinel_owner = dataclasses.replace(gov.policy, sentinels=(p.safe_owners[0].address,))
    with pytest.raises(PolicyMismatch, match="is a Safe owner: a pause-only key"):
        gov.env.run(check_policy(gov.env.client, sentinel_owner))


def test_whole_path_pause_propose_approve_execute_resume(gov: GovEnv) -> None:
    env, p = gov.env, gov.env.protocol
    _pause_vault(gov)
    up = _propose(gov)
    # The evidence hash is the timelock salt; one Safe tx to schedule, one to execute.
    assert up.timelock_op.salt == gov.verdict().evidence_hash
    assert [t.step for t in up.safe_txs] == ["schedule", "execute"]
    assert up.implementation is not None and env.run(env.client.get_code(up.implementation))

    st = _approve(gov, up.id, 0)
    assert st.state is ProposalState.PENDING and st.missing == tuple(o.address for o in p.safe_owners[1:])
    with pytest.raises(ProposalStateError, match="one signature is not enough"):
        env.run(execute_upgrade(env.client, gov.store, up.id, sender=p.spare[0].address))
    st = _approve(gov, up.id, 1)
    assert st.met and st.state is ProposalState.APPROVED

    countdown: list[int] = []
    with pytest.raises(ProposalStateError, match="delay has"):
        env.run(
            execute_upgrade(
                env.client,
                gov.store,
                up.id,
                sender=p.spare[0].address,
                wait=False,
                on_countdown=countdown.append,
            )
        )
    assert load(gov.store, up.id)[1] is ProposalState.SCHEDULED
    assert countdown and 0 < countdown[0] <= EMERGENCY_DELAY
    # The chain enforces the delay too: the signed execute transaction reverts when sent now.
    t = up.safe_txs[1]
    sigs = [s for s in _stored_sigs(gov, up.id, 1)]
    data = encode_call(
        safe_abi(),
        "execTransaction",
        t.to,
        0,
        bytes.fromhex(t.data[2:]),
        0,
        0,
        0,
        0,
        ZERO_ADDRESS,
        ZERO_ADDRESS,
        pack_signatures(sigs),
    )
    with pytest.raises(CallReverted):
        env.run(env.client.transact(TxRequest(to=p.safe.address, data=data), sender=p.spare[0].address))

    result = env.run(
        execute_upgrade(
            env.client, gov.store, up.id, sender=p.spare[0].address, smoke=gov.smoke(), time_travel=True
        )
    )
    names = {c.name for c in result.checks}
    assert result.ok and names >= {"implementation-slot", "code-hash", "smoke:vault.withdraw"}
    assert env.run(implementation_of(env.client, p.address("vault"))) == up.implementation
    assert env.call("vault", "paused") is True  # upgraded, still paused until its own approval

    un = env.run(propose_unpause(env.client, gov.store, gov.policy, after=up.id))
    assert [t.step for t in un.safe_txs] == ["schedule+execute"]  # no delay: one MultiSend batch
    assert un.timelock_op.predecessor == up.timelock_op.operation_id
    _approve(gov, un.id, 1)
    _approve(gov, un.id, 2)
    resumed = env.run(resume(env.client, gov.store, un.id, sender=p.spare[0].address, smoke=gov.smoke()))
    assert resumed.ok
    assert env.call("vault", "paused") is False
    user = p.users[0]
    before = env.call("usd", "balanceOf", user.address)
    env.send(user, "vault", "withdraw", 10**18, user.address, user.address)
    assert env.call("usd", "balanceOf", user.address) == before + 10**18
    # On chain: the operation is done and its salt is the evidence hash (CallSalt event).
    assert (
        env.run(
            env.client.call(
                TxRequest(
                    to=p.timelock.address,
                    data=encode_call(
                        TIMELOCK_ABI, "isOperationDone", bytes.fromhex(up.timelock_op.operation_id[2:])
                    ),
                )
            )
        )[-1]
        == 1
    )
    kinds = [e.kind for e in gov.store.audit_entries()]
    assert "upgrade.executed" in kinds and "unpause.executed" in kinds


def _stored_sigs(g: GovEnv, pid: str, index: int):  # type: ignore[no-untyped-def]
    from bulwark.chain.safe import SafeSignature, split_signatures

    out = []
    for signer, decision, sig in g.store.signatures(pid):
        if decision == "approve":
            out.append(SafeSignature(signer, split_signatures(bytes.fromhex(sig[2:]))[index]))  # type: ignore[arg-type]
    return out


def test_bad_signatures_are_rejected(gov: GovEnv) -> None:
    env, p = gov.env, gov.env.protocol
    a = _propose(gov)
    b = env.run(propose_unpause(env.client, gov.store, gov.policy, after=a.id))
    assert b.safe_txs[0].nonce == a.safe_txs[-1].nonce + 1  # nonces reserved by open proposals
    from bulwark.govern import submit_signature

    # A non-owner (the sentinel) cannot approve.
    with pytest.raises(SignatureRejected, match="not an owner"):
        env.run(approve(env.client, gov.store, a.id, p.sentinel.private_key))
    # An owner's signature over another proposal does not count for this one.
    owner = p.safe_owners[0]
    other = sign(b, owner.private_key)
    with pytest.raises(SignatureRejected, match="needs 2 signature"):
        env.run(submit_signature(env.client, gov.store, a.id, owner.address, other))
    with pytest.raises(SignatureRejected, match="not over proposal"):
        env.run(submit_signature(env.client, gov.store, a.id, owner.address, other + other))
    # Someone else's signature claimed as one's own.
    forged = sign(a, p.safe_owners[1].private_key)
    with pytest.raises(SignatureRejected, match="not over proposal"):
        env.run(submit_signature(env.client, gov.store, a.id, owner.address, forged))
    # A replayed (duplicate) signature.
    good = sign(a, owner.private_key)
    env.run(submit_signature(env.client, gov.store, a.id, owner.address, good))
    with pytest.raises(SignatureRejected, match="already signed"):
        env.run(submit_signature(env.client, gov.store, a.id, owner.address, good))
    assert status(gov.store, a.id).signed == (owner.address,)
    # Expired.
    with pytest.raises(SignatureRejected, match="expired"):
        _approve(gov, a.id, 1, now=a.expires_at + 1)
    assert load(gov.store, a.id)[1] is ProposalState.EXPIRED
    with pytest.raises(ProposalStateError):
        env.run(execute_upgrade(env.client, gov.store, a.id, sender=p.spare[0].address))


def test_rejected_proposal_never_executes(gov: GovEnv) -> None:
    env, p = gov.env, gov.env.protocol
    up = _propose(gov)
    _approve(gov, up.id, 0)
    _approve(gov, up.id, 1)
    st = env.run(reject(env.client, gov.store, up.id, p.safe_owners[2].private_key, reason="bad patch"))
    assert st.state is ProposalState.REJECTED and st.rejected_by == (p.safe_owners[2].address,)
    with pytest.raises(ProposalStateError, match="rejected"):
        env.run(execute_upgrade(env.client, gov.store, up.id, sender=p.spare[0].address, time_travel=True))
    with pytest.raises(SignatureRejected, match="rejected"):
        _approve(gov, up.id, 2)
    assert env.run(implementation_of(env.client, p.address("vault"))) == p.component("vault").implementation


def test_sentinel_can_neither_upgrade_nor_unpause(gov: GovEnv) -> None:
    env, p = gov.env, gov.env.protocol
    _pause_vault(gov)
    impl = _propose(gov).implementation
    with pytest.raises(CallReverted, match="AccessControlUnauthorizedAccount"):
        env.send(p.sentinel, "vault", "upgradeToAndCall", impl, b"")
    with pytest.raises(CallReverted, match="AccessControlUnauthorizedAccount"):
        env.send(p.sentinel, "vault", "unpause")
    guardian_fns = {e.get("name") for e in p.guardian.abi if e.get("type") == "function"}
    assert not {"unpause", "unpauseSelectors", "upgradeToAndCall"} & guardian_fns
    assert env.call("vault", "paused") is True


def test_tampered_candidate_is_refused_at_execution(gov: GovEnv) -> None:
    env, p = gov.env, gov.env.protocol
    _pause_vault(gov)
    up = _propose(gov)
    _approve(gov, up.id, 0)
    _approve(gov, up.id, 2)
    assert up.implementation is not None
    other = env.run(env.client.get_code(p.component("lending").implementation))
    env.run(env.client.set_code(up.implementation, other))
    with pytest.raises(TamperedCandidate, match="hashes to"):
        env.run(execute_upgrade(env.client, gov.store, up.id, sender=p.spare[0].address, time_travel=True))
    assert env.run(implementation_of(env.client, p.address("vault"))) == p.component("vault").implementation
    assert load(gov.store, up.id)[1] is ProposalState.FAILED
    assert any(e.kind == "alert.critical" for e in gov.store.audit_entries())


def test_creation_code_not_matching_the_evidence_is_not_proposed(gov: GovEnv) -> None:
    from bulwark.errors import GovernanceError

    lending = gov.vault_code[:-1] + bytes([gov.vault_code[-1] ^ 1])
    with pytest.raises(GovernanceError, match="not the verified candidate"):
        _propose(gov, implementation=lending)


def test_failed_post_check_leaves_paused_and_escalates(gov: GovEnv) -> None:
    env, p = gov.env, gov.env.protocol
    _pause_vault(gov)
    finding = Finding(
        detector="test",
        vuln_class=VulnClass.CUSTOM,
        severity=Severity.CRITICAL,
        confidence=Confidence.HIGH,
        title="drain",
        protocol="demo",
        contract=p.address("vault"),
        tx_hash=None,
        pending=False,
    )
    inc = gov.store.open_incident(finding)
    for to in (IncidentState.CONTAINED, IncidentState.PATCHED, IncidentState.VERIFIED):
        gov.store.transition(inc.id, to, "test")
    up = _propose(gov, incident_id=inc.id)
    _approve(gov, up.id, 0)
    _approve(gov, up.id, 1)
    too_much = gov.smoke(amount=10**30)  # more than the user holds: the smoke call reverts
    with pytest.raises(PostCheckFailed, match="stays paused"):
        env.run(
            execute_upgrade(
                env.client, gov.store, up.id, sender=p.spare[0].address, smoke=too_much, time_travel=True
            )
        )
    assert env.call("vault", "paused") is True
    assert load(gov.store, up.id)[1] is ProposalState.FAILED
    assert gov.store.incident(inc.id).state is IncidentState.ESCALATED
    with pytest.raises(ProposalStateError):
        env.run(propose_unpause(env.client, gov.store, gov.policy, after=up.id))


def test_half_signed_proposal_survives_a_restart(gov: GovEnv) -> None:
    p = gov.env.protocol
    up = _propose(gov)
    _approve(gov, up.id, 0)
    gov.store.close()
    reopened = Store(gov.db_url)
    gov.store = reopened
    st = status(reopened, up.id)
    assert st.signed == (p.safe_owners[0].address,) and st.state is ProposalState.PENDING
    assert load(reopened, up.id)[0] == up
    st = _approve(gov, up.id, 1)
    assert st.met and st.state is ProposalState.APPROVED
