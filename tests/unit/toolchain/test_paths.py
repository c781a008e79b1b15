"""An installed Bulwark (no checkout) finds its node parts in its cache, installing them once.

npm is a stand-in here (it records its calls); tests/e2e/toolchain/test_wheel_install.py runs the
real `npm ci` from an installed wheel.
"""

from __future__ import annotations

import json
import shutil
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from bulwark.errors import ToolchainError
from bulwark.toolchain import paths, versions

ROOT = Path(__file__).resolve().parents[3]
# A stand-in for `npm ci` (the PATH holds only the stand-ins, so tools are called by full path):
# it logs each run, takes a while (so concurrent callers overlap) and lays out one pinned tool.
FAKE_NPM = f"""#!/bin/sh
echo "$@" >> "{{log}}"
{shutil.which("sleep")} 0.2
{shutil.which("mkdir")} -p node_modules/@foundry-rs/anvil-linux-amd64/bin
echo '#!/bin/sh' > node_modules/@foundry-rs/anvil-linux-amd64/bin/anvil
{shutil.which("chmod")} +x node_modules/@foundry-rs/anvil-linux-amd64/bin/anvil
"""


@pytest.fixture
def installed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """No checkout, no BULWARK_HOME: as a wheel installed into a virtual environment sees it."""
    monkeypatch.delenv("BULWARK_HOME", raising=False)
    monkeypatch.setenv("BULWARK_CACHE", str(tmp_path / "cache"))
    monkeypatch.setattr(paths, "checkout_root", lambda: None)
    bindir = tmp_path / "bin"
    bindir.mkdir()
    monkeypatch.setenv("PATH", str(bindir))
    paths.project_root.cache_clear()
    versions.bundled_solc.cache_clear()
    yield bindir
    paths.project_root.cache_clear()
    versions.bundled_solc.cache_clear()


def _tool(bindir: Path, name: str, body: str) -> None:
    (bindir / name).write_text(body)
    (bindir / name).chmod(0o755)


def test_the_shipped_manifest_is_the_checkouts() -> None:
    for name in ("package.json", "package-lock.json"):
        assert (ROOT / "src/bulwark/toolchain/node" / name).read_bytes() == (ROOT / name).read_bytes()


def test_without_npm_the_error_is_one_line_naming_what_to_install(installed: Path, tmp_path: Path) -> None:
    root = paths.project_root()
    assert root == tmp_path / "cache" / "node"
    # The manifest is in place without npm: the bundled releases are known before any install.
    assert "0.8.26" in versions.bundled_solc()
    with pytest.raises(ToolchainError) as info:
        paths.node_modules()
    message = info.value.user_message
    assert "\n" not in message and "install Node.js 18+ with npm" in message


def test_first_use_installs_once_under_a_lock(installed: Path, tmp_path: Path) -> None:
    log = tmp_path / "npm.log"
    _tool(installed, "node", "#!/bin/sh\necho v20\n")
    _tool(installed, "npm", FAKE_NPM.format(log=log))
    results: list[Path] = []
    threads = [threading.Thread(target=lambda: results.append(paths.node_modules())) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(results) == 3 and len(set(results)) == 1
    assert log.read_text().splitlines() == ["ci --no-audit --no-fund --prefer-offline --loglevel=error"]
    assert paths.foundry_bin("anvil") == results[0] / "@foundry-rs/anvil-linux-amd64/bin/anvil"
    # A changed lock file means a new install.
    lock = paths.project_root() / "package-lock.json"
    data = json.loads(lock.read_text())
    lock.write_text(json.dumps({**data, "note": "changed"}))
    paths.node_modules()
    assert len(log.read_text().splitlines()) == 2


def test_foundry_from_path_is_used_before_any_install(installed: Path) -> None:
    _tool(installed, "forge", "#!/bin/sh\necho forge\n")
    assert paths.foundry_bin("forge") == installed / "forge"  # no npm needed, none called
