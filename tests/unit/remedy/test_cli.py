"""``bulwark remedy catalogue``: the setters of a contract as JSON, and usage errors."""

from __future__ import annotations

import json
from pathlib import Path

import structlog
from typer.testing import CliRunner

from bulwark.cli.main import app

ROOT = Path(__file__).resolve().parents[3]


def test_catalogue_json_lists_the_admin_setters() -> None:
    try:
        result = CliRunner().invoke(
            app,
            [
                "remedy", "catalogue", "--source", str(ROOT / "contracts/protocol/FlashLender.sol"),
                "--contract", "FlashLender", "--component", "flash", "--json",
            ],
        )  # fmt: skip
    finally:
        structlog.reset_defaults()
    assert result.exit_code == 0, result.output
    setters = json.loads(result.output)["setters"]
    assert [s["function"] for s in setters] == ["setFee"]
    assert setters[0]["guard"] == "role:DEFAULT_ADMIN_ROLE"
    assert setters[0]["params"][0]["stored_in"] == "feeBps"


def test_catalogue_of_a_missing_file_is_a_usage_error(tmp_path: Path) -> None:
    try:
        result = CliRunner().invoke(
            app,
            [
                "remedy",
                "catalogue",
                "--source",
                str(tmp_path / "Nope.sol"),
                "--contract",
                "X",
                "--component",
                "x",
            ],
        )
    finally:
        structlog.reset_defaults()
    assert result.exit_code != 0
    assert "no such source file" in str(result.exception or result.output)
