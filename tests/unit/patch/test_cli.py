"""``bulwark patch``: JSON shape, nothing to fix, a source that does not compile, ``--out``."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

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
    assert set(data) == {"findings", "patches", "compiled", "out"}
    assert data["compiled"] is True and data["out"] == str(out)
    finding = next(f for f in data["findings"] if f["function"] == "resetFee")
    assert {"detector", "class", "contract", "function", "lines"} <= set(finding)
    assert finding["class"] == "access-control" and finding["contract"] == "OpenSetter"
    assert all(isinstance(n, int) for n in finding["lines"]) and finding["lines"]
    best = data["patches"][0]
    assert {"class", "contract", "function", "template", "diff"} <= set(best)
    assert (best["class"], best["contract"], best["function"]) == ("access-control", "OpenSetter", "resetFee")
    assert "+" in best["diff"] and "onlyOwner" in best["diff"]
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


def test_nothing_to_fix_exits_zero_without_a_patch(tmp_path: Path) -> None:
    source = _copy(tmp_path, "Clean.sol")
    out = tmp_path / "out"
    proc = _run(str(source), "--json", "--no-slither", "--out", str(out), cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    assert data["patches"] == [] and data["compiled"] is False and data["out"] is None
    assert not out.exists()


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
