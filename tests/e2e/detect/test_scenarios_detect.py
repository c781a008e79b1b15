"""The detection bars on the real corpus: each attack is flagged from the mempool, before its
transaction is included, with a finding of the scenario's class; benign traffic raises nothing high."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from bulwark.lab.protect import run_benign_detect, run_scenario_detect
from bulwark.scenarios.corpus import load_corpus
from bulwark.scenarios.runner import RunOptions
from bulwark.toolchain.solc import Compiler

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def compiler() -> Iterator[Compiler]:
    with Compiler() as c:
        yield c


# oracle-open-setprice runs through the CLI in test_scenario_cli.py.
FAST = ("spot-price-collateral",)
CLI = ("oracle-open-setprice",)


def _check(name: str, compiler: Compiler) -> None:
    result = run_scenario_detect(load_corpus().get(name), RunOptions(benign_txs=10), compiler=compiler)
    assert result["attack_succeeded"], "the vulnerable scenario must really attack"
    assert result["detected"], result["findings"]
    assert result["detected_before_inclusion"], result["findings"]
    assert result["class_matched"], (result["class"], result["finding_classes"])
    assert result["detection_latency_ms"] is not None and result["detection_latency_ms"] < 2_000


def _sample(name: str, **labels: str) -> float:
    from bulwark import metrics

    return metrics.default().registry.get_sample_value(name, labels) or 0.0


@pytest.mark.parametrize("name", FAST)
def test_attack_detected_before_inclusion(name: str, compiler: Compiler) -> None:
    screened = _sample("bulwark_pending_transactions_screened_total", network="default")
    critical = _sample("bulwark_findings_total", severity="critical")
    _check(name, compiler)
    # What the dashboard's /metrics exposes moved with the run.
    assert _sample("bulwark_pending_transactions_screened_total", network="default") > screened
    assert _sample("bulwark_findings_total", severity="critical") > critical


@pytest.mark.slow
@pytest.mark.parametrize("name", [n for n in load_corpus().names() if n not in FAST + CLI])
def test_every_other_scenario_detected_before_inclusion(name: str, compiler: Compiler) -> None:
    _check(name, compiler)


def test_benign_traffic_raises_no_high_or_critical(compiler: Compiler) -> None:
    result = run_benign_detect(200, seed=3, compiler=compiler)
    assert result["txs"] == 200
    assert result["screened"] >= 200  # every benign transaction was seen pending and screened
    by = result["findings_by_severity"]
    assert by["high"] == 0 and by["critical"] == 0, result["findings"]
