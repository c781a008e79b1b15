"""Remediation by state on the oracle-manipulation scenario (spot-price-collateral), end to end.

The scenario is played on a kept-alive anvil (the attack drains the lending market). Then:
the smallest parameter remedy is searched on forks (a halved LTV is rejected with its reason,
LTV 0 stops the attack), verified with benign history and an impact report, proposed through
the Safe and the timelock with its own evidence hash, approved by two owners, executed while the
market is paused, and the market is resumed; the same attack, mounted again, takes nothing.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.e2e.verify.live import LiveRun, live_scenario

from bulwark.chain import ChainClient, Signer, TxRequest, run
from bulwark.chain.abi import decode_result, encode_call
from bulwark.domain import Address, Severity
from bulwark.domain.govern import ActionRule, GovAction, Policy, ProposalState
from bulwark.domain.remedy import RemedyResult
from bulwark.govern import load
from bulwark.lab.remedy import apply_parameter_remedy
from bulwark.remedy.catalogue import catalogue
from bulwark.remedy.engine import find_parameter_remedy, verify_parameter_remedy
from bulwark.remedy.search import candidates
from bulwark.scenarios.attack import ScenarioContext, World, script_attack
from bulwark.scenarios.benign import BenignTraffic
from bulwark.scenarios.corpus import load_corpus, load_script
from bulwark.scenarios.deploy import fund
from bulwark.scenarios.protocol import ImplSpec
from bulwark.scenarios.remedy import demo_remedy_request
from bulwark.scenarios.runner import ATTACKER_CAPITAL_USD, ATTACKER_CAPITAL_WETH
from bulwark.store import Store
from bulwark.toolchain.solc import Compiler

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[3]
SCENARIO = load_corpus().get("spot-price-collateral")


@pytest.fixture(scope="module")
def compiler() -> Iterator[Compiler]:
    with Compiler(root=ROOT) as c:
        yield c


@pytest.fixture(scope="module")
def live(compiler: Compiler) -> Iterator[LiveRun]:
    with live_scenario(SCENARIO, compiler, benign=12) as live:
        yield live


@pytest.fixture(scope="module")
def found(live: LiveRun, compiler: Compiler) -> RemedyResult:
    request = demo_remedy_request(
        live.world.protocol, SCENARIO, live.url, live.attack_txs, compiler, regress=10, forward_txs=10
    )
    return run(find_parameter_remedy(request, compiler=compiler))


async def _view(client: ChainClient, to: str, abi: list, fn: str, *args: object) -> object:  # type: ignore[type-arg]
    raw = await client.call(TxRequest(to=Address(to), data=encode_call(abi, fn, *args)))
    return decode_result(abi, fn, raw)


def test_the_smallest_parameter_remedy_is_found_and_verified(found: RemedyResult) -> None:
    assert found.chosen is not None, found.reasons
    assert found.passed, found.reasons
    (call,) = found.chosen.calls
    assert call.component == "lending" and call.signature.startswith("setRiskParams(")
    # The market refuses LTV 0; 1 bp leaves nothing worth borrowing against any collateral.
    assert call.args[0] == 1 and found.chosen.strategy == "min:ltv"
    assert found.evidence_hash and found.evidence_hash.startswith("0x")
    assert found.evidence["attack"]["changes"], "the attack was replayed and measured"


def test_a_cap_set_too_high_is_rejected_with_the_reason(found: RemedyResult) -> None:
    tried = {a.remedy.strategy: a for a in found.attempts}
    halved = tried["halve:ltv"]
    assert not halved.blocked
    assert any("attack-not-blocked" in r and "valued at the oracle, victims -" in r for r in halved.reasons)


def test_impact_report_lists_failed_benign_txs_and_the_largest_changes(found: RemedyResult) -> None:
    impact = found.impact
    assert impact is not None
    data = impact.to_json()
    assert isinstance(data["benign_failed"], int)
    assert data["replayed"] > 0 and data["simulated"] > 0
    assert data["largest_price_change"] is not None
    assert data["largest_liquidity_change"] is not None
    # LTV 0 refuses new borrows: any benign borrow is listed as blocked, and nothing else is.
    assert all(f.endswith("borrow") for f in data["blocked_functions"]), data["blocked_functions"]
    assert "benign txs would have failed" in impact.summary_text()


def test_an_explicit_ineffective_remedy_fails_verification(
    live: LiveRun, compiler: Compiler, found: RemedyResult
) -> None:
    """A human's remedy (LTV 70%) is verified the same way and refused: the attack still drains."""
    protocol = live.world.protocol
    request = demo_remedy_request(
        protocol, SCENARIO, live.url, live.attack_txs, compiler, regress=4, forward_txs=0
    )
    comp = request.components["lending"]
    setters = catalogue(compiler.compile_files([comp.source]), comp.contract, "lending")
    assert found.chosen is not None
    current = {
        ("lending", v): a
        for v, a in zip(
            ("ltvBps", "liquidationThresholdBps", "liquidationBonusBps", "closeFactorBps"),
            (7500, *found.chosen.calls[0].args[1:]),
            strict=True,
        )
    }
    remedy = next(
        r
        for r in candidates(setters, "oracle-manipulation", current, {"lending": comp.proxy})
        if r.strategy == "halve:ltv"
    )
    verdict, impact = run(verify_parameter_remedy(request, remedy))
    assert not verdict.passed
    assert any(r.code == "attack-not-blocked" for r in verdict.reasons)
    assert verdict.evidence_hash != found.evidence_hash
    assert impact.benign_failed >= 0


def _policy(protocol) -> Policy:  # type: ignore[no-untyped-def]
    owners = tuple(Address(o.address) for o in protocol.safe_owners)
    rule = ActionRule(protocol.safe_threshold, protocol.timelock_delay, owners)
    return Policy(
        protocol="demo",
        safe=Address(protocol.safe.address),
        timelock=Address(protocol.timelock.address),
        proxies={n: Address(c.proxy) for n, c in protocol.components.items()},
        owners=owners,
        safe_threshold=protocol.safe_threshold,
        rules={(GovAction.UPGRADE, None): rule, (GovAction.UNPAUSE, None): rule},
        guardian=Address(protocol.guardian.address),
    )


def test_contain_remedy_govern_execute_resume(
    live: LiveRun, compiler: Compiler, found: RemedyResult, tmp_path: Path
) -> None:
    protocol = live.world.protocol
    lending = protocol.component("lending")
    usd = protocol.token("usd")
    store = Store(f"sqlite:///{tmp_path / 'bulwark.db'}")
    owners = [o.private_key for o in protocol.safe_owners[: protocol.safe_threshold]]
    relayer = Signer(protocol.deployer.private_key)
    attacker = protocol.spare[1]
    impl = ImplSpec(SCENARIO.vulnerable.source, SCENARIO.vulnerable.contract)

    async def go() -> dict[str, object]:
        async with ChainClient(live.url) as client:
            ctx = ScenarioContext(
                scenario=SCENARIO, client=client, compiler=compiler, world=live.world,
                attacker=attacker, implementation=impl,
            )  # fmt: skip
            # contain: the sentinel pauses the market through the guardian
            guardian = protocol.guardian
            await ctx.transact(protocol.sentinel, guardian.address, guardian.abi, "pause", lending.proxy)
            policy = _policy(protocol)
            applied = await apply_parameter_remedy(
                client, store, policy, found, signer_keys=owners, relayer=relayer, paused=["lending"],
                severity=Severity.CRITICAL, time_travel=True,
            )  # fmt: skip
            assert applied.ok, applied.detail
            (pid,) = applied.proposals
            prop, state = load(store, pid)
            assert prop.action is GovAction.PARAMETERS and state is ProposalState.EXECUTED
            assert prop.evidence_hash == found.evidence_hash  # its own evidence, the timelock salt
            assert "benign txs would have failed" in prop.description  # signers see the cost
            assert load(store, applied.resumed[0])[0].depends_on == pid
            ltv = await _view(client, lending.proxy, lending.abi, "ltvBps")
            paused = await _view(client, lending.proxy, lending.abi, "paused")
            # the same attack again, from a fresh attacker: it takes nothing
            await fund(
                client, protocol, attacker.address, usd=ATTACKER_CAPITAL_USD, weth=ATTACKER_CAPITAL_WETH
            )
            before = await _view(client, usd.address, usd.abi, "balanceOf", lending.proxy)
            hashes = await script_attack(load_script(SCENARIO))(ctx.with_world(World(protocol=protocol)))
            receipts = [await client.get_receipt(h) for h in hashes]
            after = await _view(client, usd.address, usd.abi, "balanceOf", lending.proxy)
            # benign traffic after resumption: everything but new borrows works
            report = await BenignTraffic(client, protocol, compiler, seed=77, users=6).run(12)
            return {
                "ltv": ltv,
                "paused": paused,
                "loss": int(before) - int(after),  # type: ignore[call-overload]
                "drain_status": receipts[-1].status if receipts[-1] else None,
                "benign": report,
            }

    out = run(go())
    assert out["ltv"] == 1 and out["paused"] is False
    assert out["loss"] == 0 and out["drain_status"] is False
    report = out["benign"]
    assert report.txs > 0  # type: ignore[attr-defined]
    failed = {a for a, n in report.reverted_by_action.items() if n}  # type: ignore[attr-defined]
    assert failed <= {"borrow"}, report.reverted_by_action  # type: ignore[attr-defined]
