"""Where each solcjs release lives: bundled npm aliases, or fetched on demand into the cache.

A release that is not bundled is installed with ``npm install --prefix <cache>/solcjs/<version>
solc@<version>`` the first time it is needed. A file lock makes concurrent installs (several
processes, several tests) wait for one another; a marker file makes a second call a no-op.
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from bulwark.errors import CompilerUnavailable
from bulwark.toolchain.paths import cache_dir, node_modules
from bulwark.toolchain.versions import OLDEST_SUPPORTED, bundled_solc, version_key

__all__ = ["OLDEST_SUPPORTED", "SolcPackage", "ensure_package", "installed_package", "published_versions"]
_MARKER = ".bulwark-installed"
_NPM_TIMEOUT_S = 300
_VERSIONS_TTL_S = 24 * 3600


@dataclass(frozen=True, slots=True)
class SolcPackage:
    """One solcjs release on disk."""

    version: str
    package_dir: Path  # the folder holding the release's index.js and soljson.js
    bundled: bool
    fetched: bool  # True only when this call downloaded it


def _install_root(cache: Path | None) -> Path:
    return (cache or cache_dir()) / "solcjs"


def _install_hint(version: str) -> str:
    return f"npm install --prefix {_install_root(None) / version} solc@{version}"


def _npm() -> str:
    npm = shutil.which("npm")
    if not npm:
        raise CompilerUnavailable("npm is not on PATH; install Node.js (with npm) 18 or newer")
    return npm


@contextmanager
def _locked(path: Path) -> Iterator[None]:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def installed_package(version: str, *, cache: Path | None = None) -> SolcPackage | None:
    """The release if it is bundled or already fetched; never touches the network."""
    bundled = bundled_solc()
    if version in bundled:
        return SolcPackage(version, node_modules() / bundled[version], bundled=True, fetched=False)
    target = _install_root(cache) / version
    pkg = target / "node_modules" / "solc"
    if (target / _MARKER).is_file() and (pkg / "soljson.js").is_file():
        return SolcPackage(version, pkg, bundled=False, fetched=False)
    return None


def ensure_package(version: str, *, cache: Path | None = None) -> SolcPackage:
    """Return the release, fetching it from the npm registry if it is neither bundled nor cached."""
    if version_key(version) < version_key(OLDEST_SUPPORTED):
        raise CompilerUnavailable(
            f"solc {version} is too old: Bulwark supports solc {OLDEST_SUPPORTED} and newer "
            "(standard JSON and import callbacks)"
        )
    found = installed_package(version, cache=cache)
    if found:
        return found
    target = _install_root(cache) / version
    with _locked(_install_root(cache) / f".{version}.lock"):
        found = installed_package(version, cache=cache)  # another process may have finished it
        if found:
            return found
        target.mkdir(parents=True, exist_ok=True)
        cmd = [
            _npm(),
            "install",
            "--prefix",
            str(target),
            "--no-save",
            "--no-audit",
            "--no-fund",
            "--no-package-lock",
            "--ignore-scripts",
            "--loglevel=error",
            "--fetch-retries=1",
            "--fetch-retry-mintimeout=2000",
            "--fetch-retry-maxtimeout=5000",
            f"solc@{version}",
        ]
        try:
            proc = subprocess.run(
                cmd, capture_output=True, text=True, timeout=_NPM_TIMEOUT_S, check=False, cwd=target
            )
            problem = _first_error_line(proc.stderr or proc.stdout) if proc.returncode else ""
        except (OSError, subprocess.TimeoutExpired) as exc:
            problem = f"{type(exc).__name__}: {exc}"
        pkg = target / "node_modules" / "solc"
        if problem or not (pkg / "soljson.js").is_file():
            raise CompilerUnavailable(
                f"solc {version} is not bundled and could not be fetched from the npm registry: "
                f"{problem or 'the package has no soljson.js'}; check network or install it with "
                f"`{_install_hint(version)}`"
            )
        (target / _MARKER).write_text(json.dumps({"version": version, "installed_at": time.time()}))
        return SolcPackage(version, pkg, bundled=False, fetched=True)


def _first_error_line(text: str) -> str:
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    for ln in lines:
        if "ERR" in ln and not ln.endswith("ERR!"):
            return ln.removeprefix("npm error ").removeprefix("npm ERR! ")
    return lines[0] if lines else "npm failed without a message"


def published_versions(*, cache: Path | None = None) -> list[str]:
    """Every solc release on the npm registry from 0.4.11 on (cached for a day)."""
    path = _install_root(cache) / "versions.json"
    try:
        if time.time() - path.stat().st_mtime < _VERSIONS_TTL_S:
            return list(json.loads(path.read_text()))
    except (OSError, ValueError):
        pass
    try:
        proc = subprocess.run(
            [_npm(), "view", "solc", "versions", "--json", "--fetch-retries=1"],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        problem = _first_error_line(proc.stderr or proc.stdout) if proc.returncode else ""
        raw = json.loads(proc.stdout) if not problem else []
    except (OSError, subprocess.TimeoutExpired, ValueError) as exc:
        problem, raw = f"{type(exc).__name__}: {exc}", []
    if problem:
        raise CompilerUnavailable(
            f"cannot list solc releases on the npm registry: {problem}; check network or pin an "
            f"exact version (bundled: {', '.join(bundled_solc())})"
        )
    versions = sorted(
        (v for v in raw if "-" not in v and version_key(v) >= version_key(OLDEST_SUPPORTED)),
        key=version_key,
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(f".{os.getpid()}.tmp")
    tmp.write_text(json.dumps(versions))
    tmp.replace(path)
    return versions
