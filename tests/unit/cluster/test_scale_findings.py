"""bench/scale.py's reading of the findings stream: the probes found, copies of one finding (what
idempotence by transaction hash keeps at 0) and findings on other transactions, apart."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType
from typing import Any

ROOT = Path(__file__).resolve().parents[3]


def _scale() -> ModuleType:
    spec = importlib.util.spec_from_file_location("bench_scale", ROOT / "bench" / "scale.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _finding(tx: int, detector: str, delivered: int = 1, contract: str = "0xAA") -> dict[str, Any]:
    return {
        "finding": {"tx_hash": f"0x{tx:064x}", "detector": detector, "contract": contract, "title": "t"},
        "delivery": {"num_delivered": delivered, "stream_seq": tx, "consumer_seq": tx},
    }


def test_a_finding_on_another_transaction_is_not_counted_as_a_duplicate() -> None:
    probes = {f"0x{i:064x}" for i in (1, 2, 3)}
    findings = [
        _finding(1, "indicator-match"),
        _finding(2, "indicator-match"),
        _finding(3, "indicator-match"),
        _finding(9, "invariant-break"),  # a benign transaction's real judgement, not a copy
    ]
    out = _scale().classify_findings(findings, probes)
    assert (out["probe_findings"], out["duplicate_findings"]) == (3, 0)
    assert [(o["tx"], o["detector"]) for o in out["other_findings"]] == [(f"0x{9:064x}", "invariant-break")]


def test_a_second_copy_of_one_finding_is_a_duplicate_with_its_delivery() -> None:
    probes = {f"0x{1:064x}"}
    findings = [
        _finding(1, "indicator-match"),
        _finding(1, "indicator-match", delivered=2, contract="0xaa"),  # same finding (case aside)
        _finding(1, "invariant-break"),  # another detector on the same transaction: its own finding
    ]
    out = _scale().classify_findings(findings, probes)
    assert (out["probe_findings"], out["duplicate_findings"], out["other_findings"]) == (1, 1, [])
    assert out["duplicates"][0]["delivery"]["num_delivered"] == 2
