"""`make test` installs the system packages itself (one script, shared with CI); `make doctor` checks."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
SCRIPT = ROOT / "scripts" / "system-deps.sh"


def _make_n(target: str) -> str:
    proc = subprocess.run(
        ["make", "-n", target],
        cwd=ROOT, capture_output=True, text=True, check=True, timeout=60,
    )  # fmt: skip
    return proc.stdout


def test_make_test_runs_the_system_deps_script_before_pytest_and_ci_only_calls_make_test() -> None:
    out = _make_n("test")
    assert "scripts/system-deps.sh" in out
    assert out.index("scripts/system-deps.sh") < out.index("pytest")
    ci = (ROOT / ".ci" / "run").read_text()
    assert "make test" in ci and "apt-get" not in ci  # one place installs system packages


def test_make_doctor_runs_bulwark_doctor_not_the_demo() -> None:
    out = _make_n("doctor")
    assert "bulwark doctor" in out and "bulwark demo" not in out


def _bin(tmp_path: Path, *fake: str) -> dict[str, str]:
    """A PATH with the shell tools the script uses, plus empty stand-ins for ``fake`` commands."""
    bindir = tmp_path / "bin"
    bindir.mkdir()
    for tool in ("bash", "ls", "id"):
        found = shutil.which(tool)
        assert found
        (bindir / tool).symlink_to(found)
    for name in fake:
        (bindir / name).write_text("#!/bin/sh\nexit 0\n")
        (bindir / name).chmod(0o755)
    return {**os.environ, "PATH": str(bindir)}


def test_system_deps_is_a_no_op_when_everything_is_present(tmp_path: Path) -> None:
    env = _bin(tmp_path, "initdb", "chromium", "node", "npm")
    proc = subprocess.run([str(SCRIPT)], env=env, capture_output=True, text=True, timeout=60, check=False)
    assert (proc.returncode, proc.stdout, proc.stderr) == (0, "", "")


def test_system_deps_without_apt_names_what_to_install(tmp_path: Path) -> None:
    env = _bin(tmp_path, "initdb")  # no chromium, node, npm, and no apt-get to fetch them
    proc = subprocess.run([str(SCRIPT)], env=env, capture_output=True, text=True, timeout=60, check=False)
    assert proc.returncode == 1
    [line] = proc.stderr.strip().splitlines()
    assert line.startswith("error:") and "chromium nodejs npm" in line and "postgresql" not in line
