"""Execution re-checks stored approvals: forged, non-owner or vetoed ones never reach the Safe."""

from __future__ import annotations

from pathlib import Path

import pytest
from tests.unit.govern.test_approvals import ADDR, KEYS, _proposal

from bulwark.errors import ProposalStateError
from bulwark.execute.run import _approvals
from bulwark.govern import sign
from bulwark.store import Store


@pytest.fixture
def store(tmp_path: Path) -> Store:
    s = Store(f"sqlite:///{tmp_path / 'b.db'}")
    yield s  # type: ignore[misc]
    s.close()


def test_threshold_counts_only_valid_eligible_owner_signatures(store: Store) -> None:
    p = _proposal()
    store.put_artifact(p.id, "proposal", p.to_json(), state="pending")
    store.add_signature(p.id, ADDR[0], "approve", "0x" + sign(p, KEYS[0]).hex())
    # Written straight into the store, bypassing approve(): owner 1's entry holding a signature by
    # another key, and owner 2, who is a Safe owner but not eligible for this rule.
    store.add_signature(p.id, ADDR[1], "approve", "0x" + sign(p, KEYS[3]).hex())
    store.add_signature(p.id, ADDR[2], "approve", "0x" + sign(p, KEYS[2]).hex())
    with pytest.raises(ProposalStateError, match="1 valid approval"):
        _approvals(store, p, ADDR[:3])


def test_two_valid_signatures_give_one_signature_list_per_safe_tx(store: Store) -> None:
    p = _proposal()
    store.put_artifact(p.id, "proposal", p.to_json(), state="pending")
    for i in (1, 0):
        store.add_signature(p.id, ADDR[i], "approve", "0x" + sign(p, KEYS[i]).hex())
    per_tx = _approvals(store, p, ADDR[:3])
    assert len(per_tx) == 2 and all(len(s) == 2 for s in per_tx)
    assert {s.owner for s in per_tx[1]} == set(ADDR[:2])


def test_a_veto_blocks_execution_even_with_enough_approvals(store: Store) -> None:
    p = _proposal()
    store.put_artifact(p.id, "proposal", p.to_json(), state="pending")
    for i in (0, 1):
        store.add_signature(p.id, ADDR[i], "approve", "0x" + sign(p, KEYS[i]).hex())
    store.add_signature(p.id, ADDR[2], "reject", "0x00")
    with pytest.raises(ProposalStateError, match="rejected"):
        _approvals(store, p, ADDR[:3])
