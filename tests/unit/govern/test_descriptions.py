"""Every proposal's description is composed in one place (govern.proposal._store_new): what it
does, then the evidence hash that is its timelock salt, the delay its rule gives, and the note for
signers. Checked on what is stored, with the chain's answers (Safe nonce, known operation) stubbed."""

from __future__ import annotations

import asyncio
import dataclasses
from pathlib import Path
from typing import Any

import pytest
from tests.unit.govern.test_approvals import _policy, _proposal
from tests.unit.govern.test_verdict_binding import CALL, _Claim, _remedy_doc

from bulwark.domain.govern import ActionRule, GovAction, Policy, ProposalState
from bulwark.govern import proposal as proposal_mod
from bulwark.govern.parameters import propose_parameters, propose_resume
from bulwark.govern.proposal import KIND, load, propose_unpause
from bulwark.store import Store


class _Chain:
    async def chain_id(self) -> int:
        return 31337


@pytest.fixture
def store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Store:
    async def view(_client: Any, _to: Any, _abi: Any, fn: str, *_args: Any) -> Any:
        return {"nonce": 0, "isOperation": False}[fn]

    monkeypatch.setattr(proposal_mod, "view", view)
    return Store(f"sqlite:///{tmp_path / 'b.db'}")


def _with_unpause() -> Policy:
    base = _policy(60)
    return dataclasses.replace(
        base, rules={**base.rules, (GovAction.UNPAUSE, None): ActionRule(2, 0, base.owners[:2])}
    )


def test_each_kind_names_its_salt_its_delay_and_carries_the_note(store: Store) -> None:
    evidence = store.put_evidence(_remedy_doc(CALL))
    (params,) = asyncio.run(
        propose_parameters(
            _Chain(),  # type: ignore[arg-type]
            store,
            _policy(60),
            _Claim(evidence),
            calls=[("vault", CALL, "cap(0)")],
            note="impact: withdrawals capped",
        )
    )
    upgrade = dataclasses.replace(_proposal(nonce=1), id="prop-upgrade")
    store.put_artifact(upgrade.id, KIND, upgrade.to_json(), state=ProposalState.EXECUTED.value)
    store.set_artifact_state(params.id, ProposalState.EXECUTED.value)
    unpause = asyncio.run(propose_unpause(_Chain(), store, _with_unpause(), after=upgrade.id))  # type: ignore[arg-type]
    resume = asyncio.run(propose_resume(_Chain(), store, _with_unpause(), after=params.id, component="vault"))  # type: ignore[arg-type]

    stored = {p.id: load(store, p.id)[0].description for p in (params, unpause, resume)}
    assert stored[params.id] == (
        f"parameters 1/1: vault.cap(0) on {params.proxy}; evidence {evidence} = timelock salt; "
        f"delay {params.timelock_op.delay_s}s\nimpact: withdrawals capped"
    )
    assert stored[unpause.id] == (
        f"unpause vault ({unpause.proxy}) after {upgrade.id}; evidence {upgrade.evidence_hash} = timelock "
        f"salt; delay {unpause.timelock_op.delay_s}s"
    )
    assert stored[resume.id].endswith(
        f"; evidence {evidence} = timelock salt; delay {resume.timelock_op.delay_s}s"
    )
    assert resume.action is unpause.action is GovAction.UNPAUSE
