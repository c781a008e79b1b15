"""Every scenario drains the protocol without protection and fails against its reference fix.

Each run is a fresh anvil: deploy (with the vulnerable or the fixed implementation), scenario
set-up, 30 benign transactions, the attack; the fixed run then sends 30 more benign transactions
to show the fix did not break ordinary use.
"""

from __future__ import annotations

import json

import pytest

from bulwark.scenarios.corpus import Scenario, load_corpus
from bulwark.scenarios.runner import RunOptions, run_scenario
from bulwark.toolchain.solc import Compiler

pytestmark = pytest.mark.e2e

CORPUS = load_corpus()
BENIGN = 30


@pytest.mark.parametrize("scenario", CORPUS.scenarios, ids=CORPUS.names())
def test_attack_drains_the_unprotected_protocol(scenario: Scenario, scenario_compiler: Compiler) -> None:
    result = run_scenario(scenario, RunOptions(benign_txs=BENIGN), compiler=scenario_compiler)
    assert result.benign.txs == BENIGN and result.benign.reverted == 0, result.benign.reverted_by_action
    assert len(result.attack_txs) == scenario.attack_txs
    assert not result.reverted_attack_txs, f"attack transactions reverted: {result.reverted_attack_txs}"
    assert result.attack_succeeded
    assert result.loss_wei > 0
    # The manifest's loss asset is what left the protocol.
    assert result.drained[scenario.loss_asset] > 0
    # At least 10,000 USD: these are real drains, not rounding dust.
    assert result.loss_wei >= 10_000 * 10**18, result.to_json()


@pytest.mark.parametrize("scenario", CORPUS.scenarios, ids=CORPUS.names())
def test_attack_fails_against_the_reference_fix(scenario: Scenario, scenario_compiler: Compiler) -> None:
    result = run_scenario(
        scenario,
        RunOptions(benign_txs=BENIGN, use_fix=True, benign_after_attack=BENIGN),
        compiler=scenario_compiler,
    )
    assert result.implementation == "fix"
    assert not result.attack_succeeded
    assert result.loss_wei == 0 or result.reverted_attack_txs
    assert result.loss_wei == 0, result.to_json()
    assert result.benign.reverted == 0, result.benign.reverted_by_action
    assert result.benign_after is not None
    assert result.benign_after.txs == BENIGN and result.benign_after.reverted == 0, (
        result.benign_after.reverted_by_action
    )


def test_cli_run_prints_the_loss_as_json(capsys: pytest.CaptureFixture[str]) -> None:
    from bulwark.cli.main import main

    with pytest.raises(SystemExit) as info:
        main(["scenario", "run", "oracle-open-setprice", "--protect", "none", "--benign-txs", "5", "--json"])
    assert info.value.code == 0
    out = json.loads(capsys.readouterr().out)
    assert out["scenario"] == "oracle-open-setprice"
    assert out["protect"] == "none"
    assert out["attack_succeeded"] is True
    assert isinstance(out["loss_wei"], int) and out["loss_wei"] > 0
    assert len(out["attack_txs"]) == 3
    assert all(h.startswith("0x") and len(h) == 66 for h in out["attack_txs"])
