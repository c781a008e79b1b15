"""``--protect full`` on every scenario of the corpus: the attack fails, the proxy is upgraded to
the verified implementation through the Safe and the timelock, the protocol is unpaused, benign
traffic works after resumption, and nothing is lost."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from bulwark.domain.govern import GovAction, ProposalState
from bulwark.govern import proposals
from bulwark.lab.full import FullOptions, run_scenario_full
from bulwark.scenarios.corpus import load_corpus
from bulwark.scenarios.runner import RunOptions
from bulwark.store import Store
from bulwark.toolchain.solc import Compiler

pytestmark = pytest.mark.e2e

CORPUS = load_corpus()


@pytest.fixture(scope="module")
def compiler() -> Iterator[Compiler]:
    with Compiler() as c:
        yield c


@pytest.mark.parametrize("name", CORPUS.names())
def test_protect_full_ends_resumed_with_zero_loss(name: str, compiler: Compiler, tmp_path: Path) -> None:
    store = Store(f"sqlite:///{tmp_path / 'bulwark.db'}")
    try:
        out = run_scenario_full(
            CORPUS.get(name),
            RunOptions(benign_txs=10),
            store=store,
            full=FullOptions(workdir=tmp_path / "work", regress=8, benign_after=15, max_candidates=2),
            compiler=compiler,
        )
        assert out["loss_wei"] == 0 and not out["attack_succeeded"], out.get("drained")
        assert out["flow_state"] == "closed", out["flow_reason"]
        assert out["patched"] and out["verified"] and out["upgraded"] and out["resumed"]
        assert out["verification"]["attack_blocked"] is True
        assert out["benign_after"]["reverted"] == 0 and out["benign_after"]["txs"] == 15
        # The upgrade went through governance and carries the evidence the signers approved.
        upgrades = [(p, s) for p, s in proposals(store, out["incident"]) if p.action is GovAction.UPGRADE]
        assert len(upgrades) == 1
        proposal, state = upgrades[0]
        assert state is ProposalState.EXECUTED
        assert proposal.evidence_hash == out["evidence_hash"] == proposal.timelock_op.salt
        assert len(store.signatures(proposal.id)) >= 2
        # One attack, one incident: every other finding on it folded into the closed one.
        assert {i.state.value for i in store.incidents()} == {"closed"}
        assert store.verify_audit().ok
    finally:
        store.close()
