import json
import subprocess
import sys

from bulwark.toolchain.doctor import run_checks
from bulwark.toolchain.versions import bundled_solc


def test_doctor_json_reports_every_check() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "bulwark.cli.main", "doctor", "--json"],
        capture_output=True,
        text=True,
        check=False,
    )
    out = json.loads(proc.stdout)
    names = {c["name"] for c in out["checks"]}
    assert {"node", "anvil", "forge", "slither"} <= names
    assert {f"solc-{v}" for v in bundled_solc()} <= names
    assert proc.returncode == (0 if out["ok"] else 1)


def test_doctor_fails_when_a_tool_is_missing(monkeypatch, tmp_path) -> None:
    monkeypatch.setenv("BULWARK_HOME", str(tmp_path))
    (tmp_path / "package.json").write_text(json.dumps({"name": "bulwark-toolchain", "dependencies": {}}))
    from bulwark.toolchain import paths, versions

    paths.project_root.cache_clear()
    versions.bundled_solc.cache_clear()
    try:
        results = {c.name: c for c in run_checks()}
        assert not results["anvil"].ok
        assert "make setup" in results["anvil"].detail
    finally:
        paths.project_root.cache_clear()
        versions.bundled_solc.cache_clear()


def test_bundled_versions_cover_the_required_releases() -> None:
    required = {"0.4.24", "0.4.25", "0.4.26", "0.5.17", "0.6.12", "0.7.6", "0.8.19", "0.8.26"}
    assert required <= set(bundled_solc())
