from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
import structlog

from bulwark.cli.main import main

EXAMPLE = Path(__file__).resolve().parents[3] / "bulwark.example.yaml"


def _run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as info:
        main(["config", "check", *args])
    out = capsys.readouterr()
    return int(info.value.code or 0), out.out, out.err


@pytest.fixture(autouse=True)
def _reset_logging() -> Iterator[None]:
    # main() points structlog at the captured stderr, which pytest closes after the test.
    yield
    structlog.reset_defaults()


def test_example_config_is_valid(capsys: pytest.CaptureFixture[str]) -> None:
    rc, out, _ = _run(capsys, "-c", str(EXAMPLE))
    assert rc == 0
    assert out.strip().endswith(": ok")
    assert "monitor demo-main -> demo" in out


def test_every_problem_listed_one_per_line_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    text = EXAMPLE.read_text()
    text = text.replace("confirmations: 1 ", "confirmation: 1 ").replace("network: local", "network: nope")
    text = text.replace("early-warning: {severity: medium}", "early-warnings: {severity: medium}")
    text = text.replace("max_price_impact: 0.15", "max_price_impakt: 0.15")
    text = text.replace("expr: 'tx.value > 1000e18 AND", "expr: 'tx.value > AND")
    bad = tmp_path / "bad.yaml"
    bad.write_text(text)
    rc, _, err = _run(capsys, "-c", str(bad))
    assert rc == 2
    lines = err.strip().splitlines()
    assert lines[-1] == "2 problem(s) found"  # schema/reference problems stop before detector checks
    assert any("networks.local.confirmation: unknown key" in line for line in lines)
    assert any("protocols.demo.network: unknown network 'nope'" in line for line in lines)

    fixed = text.replace("confirmation: 1 ", "confirmations: 1 ").replace("network: nope", "network: local")
    bad.write_text(fixed)
    rc, out, _ = _run(capsys, "-c", str(bad), "--json")
    assert rc == 2
    problems = json.loads(out)["problems"]
    assert len(problems) == 3, problems
    assert any("detectors.early-warnings: unknown detector" in p for p in problems)
    assert any("flash-loan-price-manipulation: bad params: max_price_impakt" in p for p in problems)
    assert any("detectors.rules" in p and "expected" in p for p in problems)


def test_missing_env_secret_reported(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("BULWARK_NOPE_RPC", raising=False)
    cfg = tmp_path / "b.yaml"
    shutil.copy(EXAMPLE, cfg)
    cfg.write_text(cfg.read_text().replace("http://127.0.0.1:8545 ", "env:BULWARK_NOPE_RPC "))
    rc, _, err = _run(capsys, "-c", str(cfg))
    assert rc == 2
    assert "networks.local.rpc_http: environment variable BULWARK_NOPE_RPC is not set" in err


def test_policies_and_remedies_must_name_a_known_protocol(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from bulwark.config.checks import cross_references

    raw = {"protocols": {"demo": {}}, "policies": {"dmeo": {}}, "remedies": {"demo": {}, "other": {}}}
    problems = cross_references(raw)
    assert any(p.startswith("policies.dmeo: unknown protocol 'dmeo'") for p in problems), problems
    assert any(p.startswith("remedies.other: unknown protocol 'other'") for p in problems), problems
    assert not any(p.startswith("remedies.demo") for p in problems)
