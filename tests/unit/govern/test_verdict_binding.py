"""Parameter remedies are held to the same rule as upgrades (#16.4): a passing verdict in the
store, for exactly the calls proposed. Every refusal here happens before the chain is touched."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from tests.unit.govern.test_approvals import PROXY, _policy

from bulwark.domain.verify import Evidence
from bulwark.errors import GovernanceError
from bulwark.govern.parameters import propose_parameters
from bulwark.govern.proposal import recorded_verdict
from bulwark.store import Store

CALL = bytes.fromhex("a9059cbb" + "00" * 64)


class _Claim:
    """A caller's verdict: it says it passed; only the stored evidence counts."""

    passed = True

    def __init__(self, evidence_hash: str) -> None:
        self.evidence_hash = evidence_hash
        self.evidence = Evidence({"pass": True}, evidence_hash)


def _remedy_doc(data: bytes, *, passed: bool = True) -> dict[str, Any]:
    return {
        "format": "bulwark.verify.evidence/1",
        "pass": passed,
        "remedy": {
            "kind": "parameters",
            "calls": [
                {"component": "vault", "target": PROXY.lower(), "call": "cap(0)", "data": "0x" + data.hex()}
            ],
        },
        "reasons": [] if passed else [{"message": "the attack still drains", "fatal": True}],
    }


@pytest.fixture
def store(tmp_path: Path) -> Store:
    return Store(f"sqlite:///{tmp_path / 'b.db'}")


def _propose(store: Store, evidence_hash: str, data: bytes = CALL) -> Any:
    chain: Any = None  # never reached: the verdict is checked first
    return asyncio.run(
        propose_parameters(
            chain, store, _policy(60), _Claim(evidence_hash), calls=[("vault", data, "cap(0)")]
        )
    )


def test_a_made_up_hash_is_refused(store: Store) -> None:
    with pytest.raises(GovernanceError, match="no verdict with evidence hash"):
        _propose(store, "0x" + "33" * 32)


def test_a_failed_remedy_verdict_is_refused(store: Store) -> None:
    failed = store.put_evidence(_remedy_doc(CALL, passed=False))
    with pytest.raises(GovernanceError, match=r"did not pass \(the attack still drains\)"):
        _propose(store, failed)


def test_a_call_the_verdict_did_not_verify_is_refused(store: Store) -> None:
    verified = store.put_evidence(_remedy_doc(CALL))
    other = bytes.fromhex("a9059cbb" + "00" * 63 + "01")
    with pytest.raises(GovernanceError, match=r"is not a call the verdict .* verified"):
        _propose(store, verified, other)


def test_a_code_verdict_cannot_back_parameter_calls(store: Store) -> None:
    code = store.put_evidence({"pass": True, "candidate": {"runtime_code_sha256": "0x" + "ab" * 32}})
    with pytest.raises(GovernanceError, match="verified no parameter remedy"):
        _propose(store, code)


def test_stored_evidence_edited_in_the_database_is_refused(store: Store) -> None:
    from sqlalchemy import create_engine, text

    verified = store.put_evidence(_remedy_doc(CALL))
    assert recorded_verdict(store, verified).passed
    engine = create_engine(store.url)
    with engine.begin() as conn:
        forged = '{"pass": true, "remedy": {"kind": "parameters", "calls": []}}'
        conn.execute(
            text("UPDATE artifacts SET body = :b WHERE id = :i"), {"b": forged, "i": f"evidence:{verified}"}
        )
    engine.dispose()
    with pytest.raises(GovernanceError, match="altered after it was stored"):
        recorded_verdict(store, verified)
