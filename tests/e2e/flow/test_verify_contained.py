"""Verification after containment must judge the candidate, not the pause: with the sentinel's
pause in the attack's block, the live (vulnerable) implementation still fails verification and
the reference fix passes."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from tests.e2e.flow.conftest import SCENARIO, Contained, _fresh

from bulwark.domain import Address
from bulwark.scenarios.corpus import load_corpus
from bulwark.toolchain.solc import Compiler
from bulwark.verify.engine import VerifyRequest, verify

pytestmark = pytest.mark.e2e


def _verify(contained: Contained, candidate: Path, contract: str, **kw: object) -> dict[str, object]:
    p = contained.protocol
    scenario = load_corpus().get(SCENARIO)
    request = VerifyRequest(
        rpc_url=contained.node.http_url,
        proxy=Address(p.component(scenario.component).proxy),
        candidate=candidate,
        contract=contract,
        live_source=scenario.vulnerable.source,
        live_contract=scenario.vulnerable.contract,
        attack_txs=contained.attack_txs,
        regress=3,
        protected=tuple(Address(c.proxy) for c in p.components.values()),
        upgrader=Address(p.timelock.address),
        **kw,  # type: ignore[arg-type]
    )
    with Compiler() as compiler:
        return asyncio.run(verify(request, compiler=compiler)).summary()


def _defended(contained: Contained) -> dict[str, object]:
    p = contained.protocol
    return {
        "defenders": (Address(p.sentinel.address),),
        "assets": tuple(Address(t.address) for t in p.tokens.values()),
        "price_oracle": Address(p.component("oracle").proxy),
    }


def test_the_vulnerable_implementation_fails_and_the_fix_passes(contained: Contained, tmp_path: Path) -> None:
    _fresh(contained, tmp_path)
    scenario = load_corpus().get(SCENARIO)
    vulnerable = _verify(
        contained, scenario.vulnerable.source, scenario.vulnerable.contract, **_defended(contained)
    )
    assert vulnerable["pass"] is False and vulnerable["attack_blocked"] is False, vulnerable
    fixed = _verify(contained, scenario.fix.source, scenario.fix.contract, **_defended(contained))
    assert fixed["pass"] is True and fixed["attack_blocked"] is True, fixed


def test_a_replay_that_cannot_reproduce_the_attack_never_passes(contained: Contained, tmp_path: Path) -> None:
    """A contained attack reverted, so its receipts name no token: told nothing about which assets
    count, the replay shows no loss even against the live code, and the verdict must not pass."""
    _fresh(contained, tmp_path)
    scenario = load_corpus().get(SCENARIO)
    out = _verify(contained, scenario.fix.source, scenario.fix.contract)
    assert out["pass"] is False
    assert any("attack-not-reproduced" in str(r) for r in out["reasons"]), out  # type: ignore[attr-defined]
