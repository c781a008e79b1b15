"""The impact report of every scenario's remedy: for each scenario of the corpus, its code fix
(the reference fix, installed through upgradeToAndCall on a fork) compared with the vulnerable
protocol over replayed benign history and a forward simulation."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.e2e.verify.live import live_scenario

from bulwark.chain import run
from bulwark.domain import Address
from bulwark.domain.remedy import RemedyKind
from bulwark.remedy.engine import measure_code_impact
from bulwark.scenarios.corpus import load_corpus
from bulwark.scenarios.remedy import demo_remedy_request
from bulwark.toolchain.solc import Compiler
from bulwark.verify.sources import compile_candidate

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[3]
CORPUS = load_corpus()


@pytest.fixture(scope="module")
def compiler() -> Iterator[Compiler]:
    with Compiler(root=ROOT) as c:
        yield c


@pytest.mark.parametrize("name", CORPUS.names())
def test_every_scenario_remedy_has_an_impact_report(name: str, compiler: Compiler) -> None:
    scenario = CORPUS.get(name)
    with live_scenario(scenario, compiler, benign=8) as live:
        protocol = live.world.protocol
        request = demo_remedy_request(
            protocol, scenario, live.url, live.attack_txs, compiler, regress=6, forward_txs=6
        )
        fix = compile_candidate(compiler, scenario.fix.source, scenario.fix.contract)
        impact = run(
            measure_code_impact(
                request,
                proxy=live.proxy,
                init_code=fix.artifact.bytecode,
                upgrader=Address(protocol.timelock.address),
                label=f"upgrade {scenario.component} to {scenario.fix.contract} (reference fix)",
            )
        )
    data = impact.to_json()
    assert data["remedy"] == RemedyKind.CODE.value
    assert isinstance(data["benign_failed"], int) and data["benign_failed"] >= 0
    assert data["replayed"] > 0
    assert data["largest_price_change"] is not None and data["largest_liquidity_change"] is not None
    assert "benign txs would have failed" in impact.summary_text()
