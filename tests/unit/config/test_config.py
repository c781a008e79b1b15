from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest
import structlog

from bulwark import logs
from bulwark.config import ConfigProblems, SecretRef, load_config, parse_config, secret_problems
from bulwark.domain import Severity
from bulwark.errors import ConfigError

VALID = """
version: 1
networks:
  local:
    rpc_http: env:BULWARK_TEST_RPC
    rpc_ws: ws://127.0.0.1:8545
    confirmations: 2
    max_past_blocks: 64
protocols:
  demo:
    network: local
    contracts:
      vault: {address: "0x5FbDB2315678afecb367f032d93F642f64180aa3", kind: vault, abi: vault.json}
      oracle: {address: "0xe7f1725e7734ce288f8367e1bb143e90bb3f0512", kind: oracle}
    assets:
      usd: {address: "0x9fE46736679d2D9a65F0992F2272dE9f3c7fa6e0", held_by: [vault]}
    roles:
      admin: ["0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266", oracle]
monitors:
  main:
    protocol: demo
    cooldown_s: 60
    detectors:
      invariant-break: {severity: high, params: {max_outflow_share: 0.3}}
    rules:
      - name: big-deposit
        when: event
        contract: vault
        event: Deposit
        expr: "args.assets > 10"
        class: custom
"""


def _write(tmp_path: Path, text: str) -> Path:
    (tmp_path / "vault.json").write_text(json.dumps([{"type": "event", "name": "Deposit", "inputs": []}]))
    path = tmp_path / "bulwark.yaml"
    path.write_text(text)
    return path


def _problems(tmp_path: Path, text: str) -> list[str]:
    with pytest.raises(ConfigProblems) as info:
        load_config(_write(tmp_path, text))
    return info.value.problems


def test_valid_file_loads_with_typed_values(tmp_path: Path) -> None:
    cfg = load_config(_write(tmp_path, VALID))
    demo = cfg.protocols["demo"]
    # lower-case addresses are normalised to their checksum form
    assert demo.contracts["oracle"].address == "0xe7f1725E7734CE288F8367e1Bb143E90bb3F0512"
    assert cfg.networks["local"].confirmations == 2
    assert cfg.monitors["main"].detectors["invariant-break"].severity is Severity.HIGH
    assert demo.contracts["vault"].load_abi(cfg.base_dir) == [
        {"type": "event", "name": "Deposit", "inputs": []}
    ]
    assert cfg.monitors["main"].rules[0].vuln_class == "custom"


def test_malformed_yaml_names_the_line(tmp_path: Path) -> None:
    problems = _problems(tmp_path, "networks:\n  local: [unclosed\n")
    assert len(problems) == 1
    assert problems[0].startswith("malformed YAML: line")


def test_duplicate_key_is_rejected_not_silently_overwritten(tmp_path: Path) -> None:
    problems = _problems(
        tmp_path, VALID.replace("    confirmations: 2\n", "    confirmations: 2\n    confirmations: 0\n")
    )
    assert any("duplicate key 'confirmations'" in p for p in problems)


def test_unknown_key_is_rejected_with_its_location(tmp_path: Path) -> None:
    problems = _problems(tmp_path, VALID.replace("confirmations: 2", "confirmation: 2"))
    assert "networks.local.confirmation: unknown key (not allowed here; check the spelling)" in problems


def test_every_broken_reference_is_reported_at_once(tmp_path: Path) -> None:
    text = (
        VALID.replace("network: local", "network: mainnet")
        .replace("held_by: [vault]", "held_by: [vault, treasury]")
        .replace("protocol: demo", "protocol: demo2")
        .replace("confirmations: 2", "confirmations: -1")  # a schema error at the same time
    )
    problems = _problems(tmp_path, text)
    joined = "\n".join(problems)
    assert "protocols.demo.network: unknown network 'mainnet' (known: local)" in problems
    assert "protocols.demo.assets.usd.held_by: unknown contract 'treasury'" in joined
    assert "monitors.main.protocol: unknown protocol 'demo2' (known: demo)" in problems
    assert "networks.local.confirmations" in joined
    assert len(problems) == 4


def test_bad_checksum_and_missing_abi_file(tmp_path: Path) -> None:
    text = VALID.replace(
        "0x5FbDB2315678afecb367f032d93F642f64180aa3", "0x5FbDB2315678afecb367f032d93F642f64180aA3"
    )
    text = text.replace("held_by: [vault]}", "held_by: [vault]}\n    flash_lenders: [nope]")
    problems = _problems(tmp_path, text)
    assert any("bad EIP-55 checksum" in p for p in problems)
    assert any(p.startswith("protocols.demo.flash_lenders[0]") for p in problems)
    (tmp_path / "vault.json").unlink()
    path = tmp_path / "bulwark.yaml"
    path.write_text(VALID)
    with pytest.raises(ConfigProblems) as info:
        load_config(path)
    assert any("contracts.vault: cannot read the ABI" in p for p in info.value.problems)


def test_rule_shape_is_checked(tmp_path: Path) -> None:
    text = VALID.replace("contract: vault\n        event: Deposit\n", "contract: vaultx\n")
    problems = _problems(tmp_path, text)
    assert any("rules[0].contract: unknown contract 'vaultx'" in p for p in problems)
    assert any("rules[0]: an 'event' rule needs 'event'" in p for p in problems)


def test_missing_file_and_non_mapping(tmp_path: Path) -> None:
    with pytest.raises(ConfigError):
        load_config(tmp_path / "absent.yaml")
    with pytest.raises(ConfigProblems):
        parse_config("- a list\n", path=tmp_path / "x.yaml")


def test_missing_env_secret_is_a_problem_and_is_resolved_lazily(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("BULWARK_TEST_RPC", raising=False)
    cfg = load_config(_write(tmp_path, VALID))  # loading does not need the secret yet
    assert secret_problems(cfg) == [
        "networks.local.rpc_http: environment variable BULWARK_TEST_RPC is not set (or empty)"
    ]
    with pytest.raises(ConfigError):
        cfg.secret("networks.local.rpc_http").resolve()
    monkeypatch.setenv("BULWARK_TEST_RPC", "https://rpc.example/v3/abcdef123456")
    assert secret_problems(cfg) == []
    assert cfg.secret("networks.local.rpc_http").resolve() == "https://rpc.example/v3/abcdef123456"


def test_file_secret_relative_to_config(tmp_path: Path) -> None:
    (tmp_path / "rpc.txt").write_text("https://node.example/key-9f8e7d6c\n")
    cfg = load_config(_write(tmp_path, VALID.replace("env:BULWARK_TEST_RPC", "file:rpc.txt")))
    assert cfg.secret("networks.local.rpc_http").resolve() == "https://node.example/key-9f8e7d6c"
    (tmp_path / "rpc.txt").unlink()
    assert "does not exist" in secret_problems(cfg)[0]


def test_resolved_secret_is_masked_in_log_lines_and_repr(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    secret = "https://rpc.example/v3/s3cr3t-api-key-777"
    monkeypatch.setenv("BULWARK_TEST_RPC", secret)
    cfg = load_config(_write(tmp_path, VALID))
    ref = cfg.secret("networks.local.rpc_http")
    value = ref.resolve()
    assert secret not in repr(ref) and secret not in repr(cfg)
    logs.configure("info")
    try:
        logs.get_logger("t").info("connecting", url=value, note=f"to {value} now")
        err = capsys.readouterr().err
    finally:
        structlog.reset_defaults()
        logging.getLogger().handlers.clear()
    assert "connecting" in err
    assert secret not in err
    assert "***" in err
    assert secret not in repr(SecretRef("https://literal.example/abc"))


def test_database_url_is_a_checked_secret_and_mined_scope_is_validated(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BULWARK_TEST_RPC", "http://127.0.0.1:8545")
    monkeypatch.delenv("BULWARK_TEST_DB", raising=False)
    text = VALID.replace("version: 1\n", "version: 1\ndatabase_url: env:BULWARK_TEST_DB\n", 1)
    cfg = load_config(
        _write(tmp_path, text.replace("max_past_blocks: 64", "max_past_blocks: 64\n    mined: protected"))
    )
    assert cfg.networks["local"].mined == "protected"
    assert secret_problems(cfg) == [
        "database_url: environment variable BULWARK_TEST_DB is not set (or empty)"
    ]
    monkeypatch.setenv("BULWARK_TEST_DB", "postgresql://bulwark:hunter2@db/bulwark")
    assert cfg.secret("database_url").resolve().endswith("@db/bulwark")
    assert cfg.networks["local"].mined != "all"
    problems = _problems(
        tmp_path, VALID.replace("max_past_blocks: 64", "max_past_blocks: 64\n    mined: some")
    )
    assert any("mined" in p for p in problems), problems
