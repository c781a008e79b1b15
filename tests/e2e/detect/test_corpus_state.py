"""Corpus cases for value and privilege read from the state diff and for slow drains
(bench/detect_corpus): internal-accounting ledgers without Transfer events, owner variables under
other names, delegatecall takeovers, drains in steps under the per-transaction bound, and custom
vaults and pools whose own books are drained in one transaction. Each
exploit, sent through the mempool of a real anvil after benign traffic, is flagged by the detector
of its class while pending, by the case's ``detect_by`` step; benign traffic raises nothing high."""

from __future__ import annotations

import asyncio
import importlib.util
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest

from bulwark.domain import Severity
from bulwark.toolchain.solc import Compiler

pytestmark = pytest.mark.e2e

BENCH = Path(__file__).resolve().parents[3] / "bench"
CASES = {
    "credits-allowance-underflow": "foreign-balance-debit",  # no sources: the slot probe
    "stake-pool-redeem-for": "foreign-balance-debit",  # layout; an appointed operator is benign
    "curator-appointment": "privileged-state-write",
    "guardian-enlistment": "privileged-state-write",
    "plugin-delegatecall-takeover": "privileged-state-write",  # no sources: slot held a role holder
    "proxy-hook-implementation-swap": "privileged-state-write",  # EIP-1967 slot via delegatecall
    "vesting-tranche-redirect": "invariant-break",
    "bonus-pool-native-drain": "invariant-break",
    # internal shares moved by a call that logs the contract's own event, not a Transfer
    "vault-share-transfer-unchecked": "foreign-balance-debit",
    "arcade-ledger-spend-for": "foreign-balance-debit",  # debited through a trusted protected caller
    "escrow-allowance-keys-swapped": "foreign-balance-debit",
    "payout-signer-rotation": "privileged-state-write",  # an approver rotating its own key is benign
    "adapter-registry-delegatecall": "privileged-state-write",
    "faucet-recipient-cooldown": "invariant-break",  # configured window share
    "rebate-orders-any-claimant": "invariant-break",
    "vault-unguarded-gain-report": "invariant-break",  # custom vault, internal accounting
    "pool-lp-burn-skipped": "invariant-break",  # custom pool, internal LP books
}


def _runner() -> ModuleType:
    name = "detect_corpus_run"
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, BENCH / "detect_corpus_run.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses resolve their module by name
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def compiler() -> Iterator[Compiler]:
    with Compiler() as c:
        yield c


@pytest.mark.parametrize(("case", "detector"), sorted(CASES.items()))
def test_exploit_flagged_while_pending_and_benign_traffic_quiet(
    case: str, detector: str, compiler: Compiler
) -> None:
    runner = _runner()
    result = asyncio.run(runner.run_case(runner.CORPUS / case, compiler))
    assert result.error is None, result.error
    calls = [s for s in result.steps if s.phase == "exploit" and not s.label.startswith("deploy ")]
    assert calls and calls[0].status == "ok", [(s.label, s.status) for s in calls]
    assert all(s.status == "ok" for s in result.steps if s.phase == "benign"), "benign traffic must succeed"
    assert result.detected_before_inclusion, result.summary()
    step = calls[result.first_pending_detection - 1]
    assert any(f.detector == detector and f.severity is Severity.CRITICAL for f in step.pending), [
        (f.detector, f.title) for f in step.pending
    ]
    # nothing before that step was flagged: the step count is the detector's, not luck
    assert all(not s.pending for s in calls[: result.first_pending_detection - 1])
    assert result.benign_high_or_critical == [], result.summary()["benign_titles"]
