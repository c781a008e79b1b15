"""The built wheel installs into a fresh virtual environment without dev extras, and runs there.

The wheel is built from a copy of the sources (setuptools' in-tree build/ folder can carry stale
modules), installed with the pinned versions of requirements.lock as constraints (so only the
runtime dependencies come in), and run from a folder outside the checkout with an empty cache:
`bulwark verify --help` imports the verify stage (hypothesis at run time), and `bulwark doctor`
installs the node parts into the cache with the real `npm ci` and starts every compiler.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]


def _run(argv: list[str], **kw: object) -> subprocess.CompletedProcess[str]:
    return subprocess.run(argv, capture_output=True, text=True, check=False, **kw)  # type: ignore[call-overload, no-any-return]


def _copy_sources(dest: Path) -> None:
    files = _run(["git", "ls-files", "-co", "--exclude-standard", "-z"], cwd=ROOT, timeout=60).stdout
    for rel in filter(None, files.split("\0")):
        src = ROOT / rel
        if rel.startswith("node_modules/") or not (src.is_file() or src.is_symlink()):
            continue
        target = dest / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(src, target, follow_symlinks=False)


@pytest.mark.e2e
@pytest.mark.slow
@pytest.mark.timeout(900)
def test_the_wheel_runs_doctor_and_verify_in_a_fresh_venv_outside_the_checkout(tmp_path: Path) -> None:
    src, dist, venv, cwd = tmp_path / "src", tmp_path / "dist", tmp_path / "venv", tmp_path / "elsewhere"
    _copy_sources(src)
    built = _run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(dist), str(src)], timeout=300
    )
    assert built.returncode == 0, built.stderr[-2000:]
    [wheel] = dist.glob("bulwark-*.whl")
    with zipfile.ZipFile(wheel) as zf:
        names = set(zf.namelist())
        for name in ("package.json", "package-lock.json"):
            assert zf.read(f"bulwark/toolchain/node/{name}") == (ROOT / name).read_bytes()
    assert "bulwark/toolchain/solc_server.js" in names and "bulwark/config/secrets.py" in names

    made = _run([sys.executable, "-m", "venv", str(venv)], timeout=120)
    assert made.returncode == 0, made.stderr
    pip = [str(venv / "bin" / "python"), "-m", "pip", "install", "-q", "--disable-pip-version-check"]
    installed = _run([*pip, "-c", str(ROOT / "requirements.lock"), str(wheel)], timeout=600)
    assert installed.returncode == 0, installed.stderr[-2000:]
    for dev_only in ("pytest", "ruff", "mypy"):  # no dev extras came in (pyrevm is runtime: patch checks)
        assert not list((venv / "lib").glob(f"python3*/site-packages/{dev_only}")), dev_only

    cwd.mkdir()
    env = {k: v for k, v in os.environ.items() if k not in ("BULWARK_HOME", "VIRTUAL_ENV", "PYTHONPATH")}
    env.update(BULWARK_CACHE=str(tmp_path / "cache"), PATH=f"{venv / 'bin'}:/usr/local/bin:/usr/bin:/bin")
    bulwark = str(venv / "bin" / "bulwark")

    helped = _run([bulwark, "verify", "--help"], cwd=cwd, env=env, timeout=120)
    assert helped.returncode == 0 and "--candidate" in helped.stdout, helped.stderr

    doctor = _run([bulwark, "doctor", "--json"], cwd=cwd, env=env, timeout=600)
    report = json.loads(doctor.stdout)
    failed = {c["name"]: c["detail"] for c in report["checks"] if not c["ok"]}
    assert doctor.returncode == 0 and report["ok"], failed
    parts = next(c for c in report["checks"] if c["name"] == "node-parts")
    assert parts["detail"].startswith(str(tmp_path / "cache" / "node" / "node_modules"))
