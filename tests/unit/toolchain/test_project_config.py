"""``protocols.<name>.source`` and ``contracts.<name>.implementation`` in bulwark.yaml: checked
offline (the project reads, the file is in it, an implementation needs a source), each problem one
line naming where; the chain comparison is the e2e tests' (tests/e2e/product)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import structlog

from bulwark.cli.main import main
from bulwark.config import load_config
from bulwark.config.checks import source_problems

PROXY = "0x5FbDB2315678afecb367f032d93F642f64180aa3"


def _config(tmp_path: Path, source: str | None, file: str = "src/Pool.sol") -> Path:
    lines = [
        "networks:",
        "  main: {rpc_http: 'http://127.0.0.1:9'}",
        "protocols:",
        "  p:",
        "    network: main",
        *([f"    source: {source}"] if source is not None else []),
        "    contracts:",
        f"      pool: {{address: '{PROXY}', implementation: {{file: {file}, contract: Pool}}}}",
    ]
    path = tmp_path / "bulwark.yaml"
    path.write_text("\n".join(lines) + "\n")
    return path


def _project(tmp_path: Path) -> Path:
    root = tmp_path / "proj"
    (root / "src").mkdir(parents=True)
    (root / "src" / "Pool.sol").write_text("pragma solidity ^0.8.0;\ncontract Pool {}\n")
    (root / "foundry.toml").write_text('[profile.default]\nsolc_version = "0.8.26"\n')
    return root


@pytest.fixture(autouse=True)
def _reset_logging() -> Iterator[None]:
    yield
    structlog.reset_defaults()


def test_source_and_implementation_are_parsed(tmp_path: Path) -> None:
    _project(tmp_path)
    config = load_config(_config(tmp_path, "proj"))
    proto = config.protocols["p"]
    assert proto.source == Path("proj")
    impl = proto.contracts["pool"].implementation
    assert impl is not None and (impl.file, impl.contract) == (Path("src/Pool.sol"), "Pool")
    assert source_problems(config) == []


def test_an_implementation_needs_the_protocols_source(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as info:
        main(["config", "check", "-c", str(_config(tmp_path, None))])
    assert info.value.code == 2
    assert "protocols.p.contracts.pool.implementation: set protocols.p.source" in capsys.readouterr().err


def test_a_missing_file_or_project_is_named(tmp_path: Path) -> None:
    _project(tmp_path)
    config = load_config(_config(tmp_path, "proj", file="src/Gone.sol"))
    [problem] = source_problems(config)
    assert problem.startswith("protocols.p.contracts.pool.implementation.file: no src/Gone.sol in ")
    config = load_config(_config(tmp_path, "elsewhere"))
    [problem] = source_problems(config)
    assert problem.startswith("protocols.p.source: ") and "does not exist" in problem


def test_config_check_reports_the_problem_and_fails(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _project(tmp_path)
    with pytest.raises(SystemExit) as info:
        main(["config", "check", "-c", str(_config(tmp_path, "proj", file="src/Gone.sol"))])
    assert info.value.code == 2
    assert "implementation.file: no src/Gone.sol" in capsys.readouterr().err
