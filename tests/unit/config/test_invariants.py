from pathlib import Path

import pytest

from bulwark.config import load_config
from bulwark.config.loader import ConfigProblems
from bulwark.domain.verify import ViewCall

BASE = """
version: 1
networks:
  local: {chain_id: 31337, rpc_http: "http://127.0.0.1:8545"}
protocols:
  demo:
    network: local
    contracts:
      vault: {address: "0x5FC8d32690cc91D4c39d9d3abcBD16989F875707", kind: vault}
    assets:
      usd: {address: "0x5FbDB2315678afecb367f032d93F642f64180aa3", held_by: [vault]}
    invariants:
      - name: vault-holds-its-assets
        lhs: {contract: usd, call: "balanceOf(address)(uint256)", args: [vault]}
        op: ">="
        rhs: {contract: vault, call: "totalAssets()(uint256)"}
      - name: shares-exist
        lhs: {contract: vault, call: "totalSupply()(uint256)"}
        op: ">"
        rhs: 0
"""


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "bulwark.yaml"
    path.write_text(text)
    return path


def test_declared_invariants_resolve_names_to_addresses(tmp_path: Path) -> None:
    cfg = load_config(_write(tmp_path, BASE))
    first, second = cfg.protocols["demo"].declared_invariants()
    assert first.lhs == ViewCall(
        "0x5FbDB2315678afecb367f032d93F642f64180aa3",
        "balanceOf(address)(uint256)",
        ("0x5FC8d32690cc91D4c39d9d3abcBD16989F875707",),
    )
    assert (
        first.op == ">="
        and isinstance(first.rhs, ViewCall)
        and first.rhs.signature == "totalAssets()(uint256)"
    )
    assert second.rhs == 0 and second.op == ">"


def test_an_invariant_naming_an_unknown_contract_is_reported(tmp_path: Path) -> None:
    with pytest.raises(ConfigProblems) as info:
        load_config(_write(tmp_path, BASE.replace("args: [vault]", "args: [vualt]")))
    assert "protocols.demo.invariants[0].lhs: unknown contract or asset 'vualt'" in str(info.value)


def test_a_malformed_view_signature_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigProblems) as info:
        load_config(_write(tmp_path, BASE.replace('"totalSupply()(uint256)"', '"totalSupply"')))
    assert "is not a view signature" in str(info.value)


def test_the_fuzz_seed_and_budget_come_from_the_config(tmp_path: Path) -> None:
    assert load_config(_write(tmp_path, BASE)).protocols["demo"].fuzz.seed == 0  # the fixed default
    text = BASE + "    fuzz: {seed: 42, examples: 2, steps: 3}\n"
    fuzz = load_config(_write(tmp_path, text)).protocols["demo"].fuzz
    assert (fuzz.seed, fuzz.examples, fuzz.steps) == (42, 2, 3)
    for bad in ("{seed: -1}", "{steps: 0}", "{seeds: 1}"):
        with pytest.raises(ConfigProblems) as info:
            load_config(_write(tmp_path, BASE + f"    fuzz: {bad}\n"))
        assert "protocols.demo.fuzz" in str(info.value)
