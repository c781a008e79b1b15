"""``bulwark scenario run NAME --protect detect --json`` and ``bulwark scenario benign --protect
detect --json``: the JSON shape issue 4 promises, through the real command on a real anvil."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
import structlog

from bulwark.cli.main import main

pytestmark = pytest.mark.e2e


@pytest.fixture(autouse=True)
def _reset_logging() -> Iterator[None]:
    # main() points structlog at the captured stderr, which pytest closes after the test.
    yield
    structlog.reset_defaults()


def _run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as info:
        main(argv)
    captured = capsys.readouterr()
    return int(info.value.code or 0), captured.out, captured.err


def test_scenario_run_detect_json(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = _run(
        ["scenario", "run", "oracle-open-setprice", "--protect", "detect", "--benign-txs", "5", "--json"],
        capsys,
    )
    assert code == 0, err
    result: dict[str, Any] = json.loads(out)
    assert result["scenario"] == "oracle-open-setprice" and result["protect"] == "detect"
    assert result["class"] == "access-control"
    assert result["attack_succeeded"] is True  # detection alone does not stop the attack
    assert result["detected"] is True
    assert result["detected_before_inclusion"] is True
    assert isinstance(result["detection_latency_ms"], float) and 0 < result["detection_latency_ms"] < 2_000
    attack = set(result["attack_txs"])
    findings = result["findings"]
    assert findings and all(
        {"detector", "severity", "class", "tx_hash", "pending"} <= set(f) for f in findings
    )
    matched = [f for f in findings if f["tx_hash"] in attack and f["class"] == result["class"]]
    assert matched and all(f["before_inclusion"] and f["pending"] for f in matched), findings
    assert result["class_matched"] is True


def test_scenario_benign_detect_json(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = _run(
        ["scenario", "benign", "--txs", "60", "--seed", "5", "--protect", "detect", "--json"], capsys
    )
    assert code == 0, err
    result: dict[str, Any] = json.loads(out)
    assert result["txs"] == 60 and result["protect"] == "detect"
    by = result["findings_by_severity"]
    assert set(by) == {"info", "low", "medium", "high", "critical"}
    assert sum(by.values()) == len(result["findings"])
    assert by["high"] == 0 and by["critical"] == 0, result["findings"]
    assert result["screened"] >= 60


def test_scenario_benign_refuses_an_unknown_protect_level(capsys: pytest.CaptureFixture[str]) -> None:
    code, _out, err = _run(["scenario", "benign", "--txs", "3", "--protect", "bogus"], capsys)
    assert code != 0
    assert "bogus" in err and "not available for benign traffic" in err
