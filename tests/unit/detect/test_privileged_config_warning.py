"""``bulwark config check`` warns when a ``privileged`` entry can match nothing: a bare function
name on a contract without an ABI, or a name its ABI does not have."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
import structlog

from bulwark.cli.main import main

EXAMPLE = Path(__file__).resolve().parents[3] / "bulwark.example.yaml"
LENDING = '{address: "0xDc64a140Aa3E981100a9becA4E685f962f0cF6C9", kind: lending}'


@pytest.fixture(autouse=True)
def _reset_logging() -> Iterator[None]:
    yield
    structlog.reset_defaults()


def _check(capsys: pytest.CaptureFixture[str], path: Path, *args: str) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as info:
        main(["config", "check", "-c", str(path), *args])
    out = capsys.readouterr()
    return int(info.value.code or 0), out.out, out.err


def _config(tmp_path: Path, extra: str) -> Path:
    text = EXAMPLE.read_text()
    assert LENDING in text
    path = tmp_path / "bulwark.yaml"
    path.write_text(text.replace(LENDING, LENDING[:-1] + ", " + extra + "}"))
    return path


def test_a_bare_privileged_name_without_an_abi_is_a_warning(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = _config(tmp_path, 'privileged: [changeOwner, "sweep(address)", "0x12345678"]')
    rc, out, err = _check(capsys, path)
    assert rc == 0 and out.strip().endswith("ok (1 warning(s))")
    [line] = [x for x in err.splitlines() if "warning:" in x]
    assert "protocols.demo.contracts.lending.privileged: 'changeOwner' is a bare name" in line
    assert "matches nothing" in line and "abi" in line
    rc, out, _ = _check(capsys, path, "--json")
    assert rc == 0 and len(json.loads(out)["warnings"]) == 1


def test_a_bare_name_found_in_the_abi_is_fine_and_a_missing_one_is_not(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    abi = [{"type": "function", "name": "changeOwner", "inputs": [{"name": "o", "type": "address"}]}]
    (tmp_path / "lending.json").write_text(json.dumps(abi))
    path = _config(tmp_path, "abi: lending.json, privileged: [changeOwner]")
    rc, out, err = _check(capsys, path)
    assert rc == 0 and out.strip().endswith(": ok") and "warning" not in err
    path = _config(tmp_path, "abi: lending.json, privileged: [setOwner]")
    rc, out, err = _check(capsys, path)
    assert rc == 0 and "no function 'setOwner' in lending's ABI" in err
