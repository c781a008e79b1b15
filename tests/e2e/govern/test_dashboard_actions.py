"""Approve and reject from the dashboard, for real: wallet-style EIP-712 signatures posted to the
API, checked by governance against the Safe's owners on the demo chain."""

from __future__ import annotations

import pytest
from eth_account import Account
from fastapi.testclient import TestClient
from tests.e2e.govern.conftest import GovEnv

from bulwark.api import create_app
from bulwark.app.dashboard import GovernActions
from bulwark.domain import Severity
from bulwark.domain.govern import ProposalState
from bulwark.errors import ProposalStateError
from bulwark.execute import execute_upgrade
from bulwark.govern import load, propose_upgrade, status

pytestmark = pytest.mark.e2e


def _propose(g: GovEnv) -> str:
    p = g.env.protocol
    proposal = g.env.run(
        propose_upgrade(
            g.env.client,
            g.store,
            g.policy,
            g.verdict(),
            component="vault",
            implementation=g.vault_code,
            deployer=p.spare[0].address,
            severity=Severity.CRITICAL,
        )
    )
    return proposal.id


def _sign(c: TestClient, pid: str, key: str, decision: str, reason: str = "") -> dict[str, object]:
    docs = c.get(f"/api/proposals/{pid}/signing", params={"decision": decision, "reason": reason}).json()
    requests = docs["requests"] if isinstance(docs, dict) and "requests" in docs else docs
    sigs = [
        "0x" + bytes(Account.sign_typed_data(key, full_message=r["typed_data"]).signature).hex()
        for r in requests
    ]
    return {"signer": Account.from_key(key).address, "signatures": sigs, "reason": reason}


def test_owners_approve_from_the_page_and_governance_counts_them(gov: GovEnv) -> None:
    pid = _propose(gov)
    c = TestClient(create_app(gov.db_url, GovernActions(gov.env.node.http_url, gov.db_url)))
    owners = gov.env.protocol.safe_owners
    for owner in owners[:2]:
        r = c.post(f"/api/proposals/{pid}/approve", json=_sign(c, pid, owner.private_key, "approve"))
        assert r.status_code == 200, r.text
    st = status(gov.store, pid)
    assert st.met and st.state is ProposalState.APPROVED
    assert set(st.signed) == {o.address for o in owners[:2]}
    # The same owner again is refused by governance (409), not double counted.
    again = c.post(f"/api/proposals/{pid}/approve", json=_sign(c, pid, owners[0].private_key, "approve"))
    assert again.status_code == 409 and "already signed" in again.text


def test_an_owner_vetoes_from_the_page_and_the_proposal_never_executes(gov: GovEnv) -> None:
    pid = _propose(gov)
    c = TestClient(create_app(gov.db_url, GovernActions(gov.env.node.http_url, gov.db_url)))
    owner = gov.env.protocol.safe_owners[2]
    r = c.post(f"/api/proposals/{pid}/reject", json=_sign(c, pid, owner.private_key, "reject", "wrong fix"))
    assert r.status_code == 200, r.text
    assert load(gov.store, pid)[1] is ProposalState.REJECTED
    with pytest.raises(ProposalStateError, match="rejected"):
        gov.env.run(execute_upgrade(gov.env.client, gov.store, pid, sender=gov.env.protocol.spare[0].address))


def test_a_veto_signed_over_another_reason_is_refused(gov: GovEnv) -> None:
    pid = _propose(gov)
    c = TestClient(create_app(gov.db_url, GovernActions(gov.env.node.http_url, gov.db_url)))
    owner = gov.env.protocol.safe_owners[1]
    body = _sign(c, pid, owner.private_key, "reject", "reason A")
    body["reason"] = "reason B"
    r = c.post(f"/api/proposals/{pid}/reject", json=body)
    assert r.status_code == 400
    assert load(gov.store, pid)[1] is ProposalState.PENDING
