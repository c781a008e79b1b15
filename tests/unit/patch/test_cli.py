"""``bulwark patch``: JSON shape, nothing to fix, a source that does not compile, ``--out``."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).parent


def _run(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bulwark.cli.main", "patch", *args],
        capture_output=True,
        text=True,
        check=False,
        cwd=cwd,
    )


def _copy(tmp_path: Path, name: str) -> Path:
    dest = tmp_path / "src" / name
    dest.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy(HERE / "contracts" / name, dest)
    return dest


def test_json_names_the_finding_and_the_patch_and_out_writes_the_fix(tmp_path: Path) -> None:
    source = _copy(tmp_path, "OpenSetter.sol")
    original = source.read_text()
    out = tmp_path / "out"
    proc = _run(str(source), "--json", "--no-slither", "--out", str(out), cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    assert set(data) == {"status", "findings", "patches", "rejected", "notes", "compiled", "out"}
    assert data["status"] == "patched"
    assert data["compiled"] is True and data["out"] == str(out)
    finding = next(f for f in data["findings"] if f["function"] == "resetFee")
    keys = {"detector", "class", "contract", "function", "lines", "confidence", "confidence_basis"}
    assert keys <= set(finding)
    assert 0 < finding["confidence"] <= 1 and finding["confidence_basis"].startswith("localisation: ")
    assert finding["class"] == "access-control" and finding["contract"] == "OpenSetter"
    assert all(isinstance(n, int) for n in finding["lines"]) and finding["lines"]
    best = data["patches"][0]
    assert {"class", "contract", "function", "template", "diff"} <= set(best)
    assert (best["class"], best["contract"], best["function"]) == ("access-control", "OpenSetter", "resetFee")
    assert "+" in best["diff"] and "onlyOwner" in best["diff"]
    # confidence: localisation x validation, each part in the report
    basis = best["confidence_basis"]
    assert basis["formula"] == "localisation x validation"
    assert best["confidence"] == round(basis["localisation"] * basis["validation"], 3)
    assert 0 < best["confidence"] < basis["localisation"] <= 1
    assert basis["validated"] and basis["not_validated"]
    # the applied patch's cost: runtime size from the compile, gas from an EVM call of resetFee()
    cost = best["cost"]
    assert best["applied"] is True and all(p["cost"] is None for p in data["patches"][1:])
    assert cost["size_after"] > cost["size_before"] > 0
    assert "runtime bytecode from solc" in cost["size_source"]
    gas = next(g for g in cost["gas"] if g["function"] == "resetFee()")
    assert gas["after"] > gas["before"] > 21000 and 0 < gas["overhead_pct"] < 5
    assert "pyrevm" in cost["gas_source"]
    # the patched file lands under --out at the source's relative path; the original is untouched
    written = list(out.rglob("*.sol"))
    assert [p.name for p in written] == ["OpenSetter.sol"]
    assert written[0].relative_to(out).as_posix().endswith("src/OpenSetter.sol")
    patched = written[0].read_text()
    assert "function resetFee() external onlyOwner" in patched
    assert source.read_text() == original


def test_human_output_prints_the_diff(tmp_path: Path) -> None:
    source = _copy(tmp_path, "OpenSetter.sol")
    proc = _run(str(source), "--no-slither", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "access-control" in proc.stdout and "OpenSetter.resetFee" in proc.stdout
    assert "+    function resetFee() external onlyOwner" in proc.stdout
    assert "confidence 0." in proc.stdout and "x validation 0.80" in proc.stdout
    assert "cost     runtime size " in proc.stdout and "cost     gas resetFee() " in proc.stdout


def test_a_clean_contract_says_clean_with_its_own_exit_code(tmp_path: Path) -> None:
    source = _copy(tmp_path, "Clean.sol")
    out = tmp_path / "out"
    proc = _run(str(source), "--json", "--no-slither", "--out", str(out), cwd=tmp_path)
    assert proc.returncode == 4, proc.stderr
    data = json.loads(proc.stdout)
    assert data["status"] == "clean"
    assert data["patches"] == [] and data["compiled"] is False and data["out"] is None
    assert not out.exists()
    human = _run(str(source), "--no-slither", cwd=tmp_path)
    assert human.returncode == 4 and "analysed, no vulnerability found" in human.stdout


@pytest.mark.parametrize(
    "text",
    [
        "",
        "// SPDX-License-Identifier: MIT\n// nothing here yet\n",
        "// SPDX-License-Identifier: MIT\npragma solidity 0.8.19;\ninterface I { function f() external; }\n",
    ],
    ids=["empty", "comments", "interface-only"],
)
def test_a_file_without_a_contract_says_so_not_nothing_to_fix(tmp_path: Path, text: str) -> None:
    source = tmp_path / "Nothing.sol"
    source.write_text(text)
    proc = _run(str(source), "--json", "--no-slither", cwd=tmp_path)
    assert proc.returncode == 5, proc.stderr
    data = json.loads(proc.stdout)
    assert data["status"] == "no-contract" and data["findings"] == [] and data["patches"] == []
    human = _run(str(source), "--no-slither", cwd=tmp_path)
    assert human.returncode == 5 and "holds no contract" in human.stdout
    assert "nothing to fix" not in human.stdout


def test_help_documents_every_status_and_exit_code(tmp_path: Path) -> None:
    proc = _run("--help", cwd=tmp_path)
    assert proc.returncode == 0
    text = " ".join(proc.stdout.split())
    for status, code in (("patched", 0), ("abstained", 3), ("clean", 4), ("no-contract", 5)):
        assert f"{status} {code} " in text, status


def test_a_source_that_does_not_compile_is_a_one_line_error(tmp_path: Path) -> None:
    broken = tmp_path / "Broken.sol"
    broken.write_text((HERE / "Broken.sol.txt").read_text())
    proc = _run(str(broken), "--json", "--no-slither", cwd=tmp_path)
    assert proc.returncode == 1
    assert proc.stdout == ""
    assert proc.stderr.startswith("error: ") and "does not compile" in proc.stderr
    assert "Traceback" not in proc.stderr and len(proc.stderr.strip().splitlines()) == 1


def test_a_missing_file_is_a_usage_error(tmp_path: Path) -> None:
    proc = _run(str(tmp_path / "Nope.sol"), cwd=tmp_path)
    assert proc.returncode == 2 and "no such file" in proc.stderr
