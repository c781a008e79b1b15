"""Corpus cases for signature reuse in any encoding, flash-loan manipulation of custom pools
with a custom lender, and a probe on a custom vault (bench/detect_corpus): each exploit, sent
through the mempool of a real anvil with benign traffic before it, is flagged by the detector of
its class before inclusion, and the benign traffic raises nothing high or critical."""

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
    "vrs-credits-authorised-spend": "signature-replay",
    "vrs-rewards-malleable-claim": "signature-replay",
    "vrs-compact-eth-allowance": "signature-replay",
    "custom-pool-lender-spot-collateral": "flash-loan-price-manipulation",
    "custom-pool-pump-buyback": "flash-loan-price-manipulation",
    "custom-vault-donation-probe": "probe-move",
}


def _runner() -> ModuleType:
    spec = importlib.util.spec_from_file_location("detect_corpus_run", BENCH / "detect_corpus_run.py")
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
def test_exploit_flagged_before_inclusion_and_benign_traffic_quiet(
    case: str, detector: str, compiler: Compiler
) -> None:
    runner = _runner()
    result = asyncio.run(runner.run_case(runner.CORPUS / case, compiler))
    assert result.error is None, result.error
    exploit = [s for s in result.steps if s.phase == "exploit"]
    assert exploit and all(s.status == "ok" for s in exploit), [(s.label, s.status) for s in exploit]
    assert all(s.status == "ok" for s in result.steps if s.phase == "benign"), "benign traffic must succeed"
    assert result.detected_before_inclusion, result.summary()
    first = next(s for s in exploit if not s.label.startswith("deploy "))
    assert any(f.detector == detector and f.severity >= Severity.HIGH for f in first.pending), [
        (f.detector, f.title) for f in first.pending
    ]
    assert result.benign_high_or_critical == [], result.summary()["benign_titles"]
