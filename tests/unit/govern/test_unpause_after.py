"""One way to build the unpause that follows a remedy (an upgrade or a parameter change): what it
refuses and what it binds to, with the chain-facing part (_store_new) captured."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from tests.unit.govern.test_approvals import PROXY, _policy, _proposal

from bulwark.domain import Address
from bulwark.domain.govern import ActionRule, GovAction, Policy, Proposal, ProposalState
from bulwark.errors import GovernanceError, ProposalStateError
from bulwark.govern import proposal as proposal_mod
from bulwark.govern.parameters import propose_resume
from bulwark.govern.proposal import KIND, propose_unpause
from bulwark.store import Store

LENDING = Address("0x" + "44" * 20)


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    s = Store(f"sqlite:///{tmp_path / 'bulwark.db'}")
    yield s
    s.close()


@pytest.fixture
def made(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    calls: list[dict[str, Any]] = []

    async def capture(_client: Any, _store: Any, _policy: Any, **kw: Any) -> dict[str, Any]:
        calls.append(kw)
        return kw

    monkeypatch.setattr(proposal_mod, "_store_new", capture)
    return calls


def _keep(store: Store, p: Proposal, state: ProposalState = ProposalState.EXECUTED) -> None:
    store.put_artifact(p.id, KIND, p.to_json(), state=state.value)


def _policy2() -> Policy:
    base = _policy(60)
    rules = {**base.rules, (GovAction.UNPAUSE, None): ActionRule(2, 0, base.owners[:2])}
    return dataclasses.replace(base, proxies={"vault": PROXY, "lending": LENDING}, rules=rules)


def test_the_unpause_follows_its_remedy(store: Store, made: list[dict[str, Any]]) -> None:
    upgrade = _proposal(nonce=1)
    params = dataclasses.replace(_proposal(nonce=2), id="prop-params", action=GovAction.PARAMETERS)
    _keep(store, upgrade)
    _keep(store, params)
    asyncio.run(propose_unpause(None, store, _policy2(), after=upgrade.id))  # type: ignore[arg-type]
    asyncio.run(propose_resume(None, store, _policy2(), after=params.id, component="lending"))  # type: ignore[arg-type]
    for kw, prior, component in ((made[0], upgrade, "vault"), (made[1], params, "lending")):
        assert kw["action"] is GovAction.UNPAUSE and kw["component"] == component
        assert kw["evidence"] == prior.evidence_hash
        assert kw["predecessor"] == prior.timelock_op.operation_id and kw["depends_on"] == prior.id
        assert (
            kw["description"].startswith(f"unpause {component} (")
            and f"after {prior.id}" in kw["description"]
        )


def test_the_wrong_remedy_kind_or_a_dead_remedy_is_refused(store: Store, made: list[dict[str, Any]]) -> None:
    upgrade = _proposal(nonce=1)
    _keep(store, upgrade)
    with pytest.raises(GovernanceError, match="is not a parameter proposal"):
        asyncio.run(propose_resume(None, store, _policy2(), after=upgrade.id, component="vault"))  # type: ignore[arg-type]
    params = dataclasses.replace(_proposal(nonce=2), id="prop-params", action=GovAction.PARAMETERS)
    _keep(store, params, ProposalState.REJECTED)
    with pytest.raises(GovernanceError, match="is not an upgrade proposal"):
        asyncio.run(propose_unpause(None, store, _policy2(), after=params.id))  # type: ignore[arg-type]
    with pytest.raises(ProposalStateError, match="parameter change prop-params is rejected"):
        asyncio.run(propose_resume(None, store, _policy2(), after=params.id, component="vault"))  # type: ignore[arg-type]
    with pytest.raises(GovernanceError, match="no proxy 'oracle'"):
        asyncio.run(propose_unpause(None, store, _policy2(), after=upgrade.id, component="oracle"))  # type: ignore[arg-type]
    assert made == []
