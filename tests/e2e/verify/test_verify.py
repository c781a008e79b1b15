"""bulwark.verify end to end: scenarios played on anvil, then candidates verified against forks of it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from tests.e2e.verify.live import LiveProtocol, LiveRun, live_protocol, live_scenario
from tests.fixtures.verify.wrong import generated

from bulwark.chain import run
from bulwark.domain.verify import Verdict
from bulwark.scenarios.corpus import load_corpus
from bulwark.toolchain.solc import Compiler
from bulwark.verify.engine import VerifyRequest, verify
from bulwark.verify.evidence import verify_evidence

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[3]
WRONG = generated()
CORPUS = load_corpus()


@pytest.fixture(scope="module")
def compiler() -> Iterator[Compiler]:
    with Compiler(root=ROOT) as c:
        yield c


@pytest.fixture(scope="module")
def vault_live(compiler: Compiler) -> Iterator[LiveRun]:
    with live_scenario(CORPUS.get("vault-mint-pricing"), compiler, benign=12) as live:
        yield live


def check(live: LiveRun, candidate: Path, compiler: Compiler, *, regress: int = 12) -> Verdict:
    request = VerifyRequest(
        rpc_url=live.url,
        proxy=live.proxy,
        candidate=candidate,
        contract=live.contract,
        attack_txs=live.attack_txs,
        regress=regress,
        protected=live.protected + live.victims,
        price_oracle=live.world.protocol.address("oracle"),
    )
    return run(verify(request, compiler=compiler))


def codes(verdict: Verdict) -> set[str]:
    return {r.code for r in verdict.reasons}


def test_reference_fix_passes_with_a_stable_evidence_hash(vault_live: LiveRun, compiler: Compiler) -> None:
    first = check(vault_live, vault_live.fix, compiler)
    assert first.passed, [str(r) for r in first.reasons]
    assert first.attack_blocked is True and first.layout_ok and first.regressions == 0
    assert first.evidence.document["regression"]["replayed"] == 12
    assert verify_evidence(first.evidence)
    second = check(vault_live, vault_live.fix, compiler)
    assert second.evidence_hash == first.evidence_hash


def test_fix_that_does_not_stop_the_attack(vault_live: LiveRun, compiler: Compiler) -> None:
    verdict = check(vault_live, WRONG["DemoVaultIneffective"], compiler)
    assert not verdict.passed
    assert verdict.attack_blocked is False
    assert codes(verdict) == {"attack-not-blocked"}
    assert verdict.layout_ok and verdict.safety_ok


def test_fix_that_breaks_a_benign_function(vault_live: LiveRun, compiler: Compiler) -> None:
    verdict = check(vault_live, WRONG["DemoVaultBreaksDeposit"], compiler)
    assert not verdict.passed
    assert verdict.attack_blocked is True
    assert codes(verdict) == {"benign-tx-reverts"}
    assert verdict.regressions >= 1
    broken = {r.subject for r in verdict.reasons}
    statuses = {
        d["tx_hash"]
        for d in verdict.evidence.document["regression"]["differences"]
        if d["aspect"] == "status"
    }
    assert broken and broken <= statuses  # every reverting benign tx is named, with its status difference


def test_cli_json_and_exit_code_for_the_vulnerable_implementation(vault_live: LiveRun) -> None:
    cmd = [
        sys.executable,
        "-m",
        "bulwark.cli.main",
        "verify",
        "--rpc",
        vault_live.url,
        "--proxy",
        vault_live.proxy,
        "--candidate",
        str(vault_live.vulnerable),
        "--contract",
        vault_live.contract,
        "--regress",
        "4",
        "--json",
    ]
    for h in vault_live.attack_txs:
        cmd += ["--attack-tx", h]
    for p in vault_live.protected:
        cmd += ["--protect", p]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=300, env={**os.environ}, check=False)
    assert proc.returncode == 1, proc.stderr
    out = json.loads(proc.stdout)
    assert set(out) == {"pass", "reasons", "layout_ok", "attack_blocked", "regressions", "gas_overhead_pct",
                        "evidence_hash"}  # fmt: skip
    assert out["pass"] is False and out["attack_blocked"] is False and out["layout_ok"] is True
    assert any("attack-not-blocked" in r for r in out["reasons"])
    assert out["evidence_hash"].startswith("0x") and len(out["evidence_hash"]) == 66


def test_cli_fuzzes_the_invariants_declared_in_bulwark_yaml(vault_live: LiveRun, tmp_path) -> None:  # type: ignore[no-untyped-def]
    """A fix that stops the attack still fails when a declared invariant breaks."""
    config = tmp_path / "bulwark.yaml"
    config.write_text(
        f"""
version: 1
networks:
  local: {{chain_id: 31337, rpc_http: "{vault_live.url}"}}
protocols:
  demo:
    network: local
    contracts:
      vault: {{address: "{vault_live.proxy}", kind: vault}}
    invariants:
      - name: shares-never-exceed-zero
        lhs: {{contract: vault, call: "totalSupply()(uint256)"}}
        op: "<="
        rhs: 0
    fuzz: {{seed: 5, examples: 2, steps: 3}}
"""
    )
    evidence = tmp_path / "evidence.json"
    cmd = [sys.executable, "-m", "bulwark.cli.main", "verify", "--rpc", vault_live.url, "--proxy",
           vault_live.proxy, "--candidate", str(vault_live.fix), "--contract", vault_live.contract,
           "--regress", "2", "--json", "-c", str(config), "--seed", "3",
           "--evidence-out", str(evidence)]  # fmt: skip
    for h in vault_live.attack_txs:
        cmd += ["--attack-tx", h]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=300, env={**os.environ}, check=False)
    assert proc.returncode == 1, proc.stderr
    out = json.loads(proc.stdout)
    assert any("shares-never-exceed-zero" in r for r in out["reasons"]), out["reasons"]
    fuzz = json.loads(evidence.read_text())["document"]["invariants"]  # the exported bundle
    assert (fuzz["seed"], fuzz["examples"], fuzz["steps"]) == (3, 2, 3)  # --seed over the config's


# -- deliberately wrong candidates for the safe FlashLender -------------------------------------


@pytest.fixture(scope="module")
def safe_live(compiler: Compiler) -> Iterator[LiveProtocol]:
    with live_protocol(compiler, benign=10) as live:
        yield live


@pytest.mark.parametrize(
    ("fixture", "expected"),
    [
        ("FlashLenderInserted", {"inserted", "moved"}),
        ("FlashLenderRemoved", {"selector-removed"}),
        ("FlashLenderOpenUpgrade", {"authorize-upgrade-unrestricted", "authorize-upgrade-open-on-fork"}),
        ("FlashLenderHuge", {"code-size"}),
    ],
)
def test_wrong_flash_lender_candidates(
    safe_live: LiveProtocol, compiler: Compiler, fixture: str, expected: set[str]
) -> None:
    request = VerifyRequest(
        rpc_url=safe_live.url,
        proxy=safe_live.proxies["flash"],
        candidate=WRONG[fixture],
        contract="FlashLender",
        regress=6,
        protected=tuple(safe_live.proxies.values()),
    )
    verdict = run(verify(request, compiler=compiler))
    assert not verdict.passed
    assert codes(verdict) == expected, [str(r) for r in verdict.reasons]


def test_unchanged_flash_lender_passes(safe_live: LiveProtocol, compiler: Compiler) -> None:
    request = VerifyRequest(
        rpc_url=safe_live.url,
        proxy=safe_live.proxies["flash"],
        candidate=ROOT / "contracts" / "protocol" / "FlashLender.sol",
        regress=6,
        protected=tuple(safe_live.proxies.values()),
    )
    verdict = run(verify(request, compiler=compiler))
    assert verdict.passed, [str(r) for r in verdict.reasons]
    assert verdict.attack_blocked is None


# -- every scenario: the reference fix passes, the vulnerable implementation fails -------------


@pytest.mark.parametrize("name", [s.name for s in CORPUS])
def test_scenario_fix_passes_and_vulnerable_fails(name: str, compiler: Compiler) -> None:
    with live_scenario(CORPUS.get(name), compiler, benign=8) as live:
        fixed = check(live, live.fix, compiler, regress=8)
        assert fixed.passed, [str(r) for r in fixed.reasons]
        assert fixed.attack_blocked is True
        vulnerable = check(live, live.vulnerable, compiler, regress=4)
        assert not vulnerable.passed
        assert vulnerable.attack_blocked is False
        assert "attack-not-blocked" in codes(vulnerable)


# -- a Foundry PoC run against the patched fork -------------------------------------------------

POC = """// SPDX-License-Identifier: MIT
pragma solidity 0.8.26;

interface IOracle {
    function setPrice(address asset, uint256 newPrice) external;
    function price(address asset) external view returns (uint256);
}

// No forge-std (offline): the exploit succeeds when this test passes.
contract OpenSetPricePoc {
    function testAnyoneCanSetThePrice() public {
        IOracle(ORACLE).setPrice(WETH, 1);
        require(IOracle(ORACLE).price(WETH) == 1, "price not moved");
    }
}
"""


def test_poc_decides_with_the_replay(compiler: Compiler, tmp_path: Path) -> None:
    with live_scenario(CORPUS.get("oracle-open-setprice"), compiler, benign=4) as live:
        p = live.world.protocol
        poc = tmp_path / "OpenSetPricePoc.t.sol"
        poc.write_text(POC.replace("ORACLE", p.address("oracle")).replace("WETH", p.token("weth").address))
        base = VerifyRequest(
            rpc_url=live.url,
            proxy=live.proxy,
            candidate=live.fix,
            contract=live.contract,
            attack_txs=live.attack_txs,
            poc=poc,
            regress=2,
            protected=live.protected,
            price_oracle=p.address("oracle"),
        )
        fixed = run(verify(base, compiler=compiler))
        assert fixed.passed, [str(r) for r in fixed.reasons]
        assert fixed.evidence.document["attack"]["poc_passed"] is False
        vulnerable = run(verify(replace(base, candidate=live.vulnerable), compiler=compiler))
        assert not vulnerable.passed
        assert vulnerable.evidence.document["attack"]["poc_passed"] is True


# -- declared invariants under the stateful fuzz -------------------------------------------------


def test_invariants_hold_and_a_false_one_is_caught_by_the_fuzz(
    vault_live: LiveRun, compiler: Compiler
) -> None:
    from bulwark.domain.verify import Invariant, ViewCall

    p = vault_live.world.protocol
    usd, vault = p.token("usd").address, p.address("vault")
    held = ViewCall(usd, "balanceOf(address)(uint256)", (vault,))
    solvent = Invariant("vault-holds-its-assets", held, ">=", ViewCall(vault, "totalAssets()(uint256)"))
    from eth_abi.abi import decode

    from bulwark.chain.abi import encode_call
    from bulwark.fork.invariants import SyncRpc

    rpc = SyncRpc(vault_live.url)  # the vault's balance just before the attack (where the fuzz starts)
    before = int(rpc("eth_getTransactionByHash", vault_live.attack_txs[0])["blockNumber"], 16) - 1
    data = "0x" + encode_call(p.abi("usd"), "balanceOf", vault).hex()
    now = decode(["uint256"], bytes.fromhex(rpc("eth_call", {"to": usd, "data": data}, hex(before))[2:]))[0]
    rpc.close()
    frozen = Invariant("vault-never-grows", held, "<=", now)  # false as soon as the fuzz deposits
    request = VerifyRequest(
        rpc_url=vault_live.url,
        proxy=vault_live.proxy,
        candidate=vault_live.fix,
        contract=vault_live.contract,
        attack_txs=vault_live.attack_txs,
        regress=12,
        protected=vault_live.protected,
        price_oracle=p.address("oracle"),
        invariants=(solvent, frozen),
        fuzz_seed=0,
    )
    verdict = run(verify(request, compiler=compiler))
    assert run(verify(request, compiler=compiler)).evidence_hash == verdict.evidence_hash  # same seed
    assert verdict.evidence.document["invariants"]["seed"] == 0
    results = {r["name"]: r for r in verdict.evidence.document["invariants"]["fuzz"]}
    assert results["vault-holds-its-assets"]["holds"] and results["vault-holds-its-assets"]["examples"] >= 1
    assert not results["vault-never-grows"]["holds"]
    assert f"<= {now}" in results["vault-never-grows"]["counterexample"]
    assert "after [no actions]" not in results["vault-never-grows"]["counterexample"]
    assert codes(verdict) == {"invariant-broken"}
