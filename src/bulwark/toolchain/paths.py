"""Where the node-side parts (npm packages) and Bulwark's caches live.

The node parts (solcjs releases, anvil/forge/cast, OpenZeppelin and Safe sources) are pinned by
``package.json`` + ``package-lock.json``. They are found, in order:

1. ``BULWARK_HOME``: a folder holding that ``package.json`` and its ``node_modules`` (used as is);
2. Bulwark's source checkout (walking up from this file, then from the working directory), set up
   by ``make setup``;
3. otherwise (an installed wheel), in the per-user cache (``<cache>/node``): the two files ship as
   package data and ``npm ci`` installs them there on first use, once, under a file lock.

``anvil``/``forge``/``cast`` come from the pinned packages when they are installed, else from
``PATH`` (a Foundry install), and only then from a first-use install.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import shutil
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from pathlib import Path

from bulwark.errors import ToolchainError

_PACKAGE_NAME = "bulwark-toolchain"
# package.json and package-lock.json, shipped inside the wheel (symlinks to the checkout's copies).
_MANIFEST = Path(__file__).with_name("node")
_MANIFEST_FILES = ("package.json", "package-lock.json")
_MARKER = ".bulwark-installed"
_NPM_CI_TIMEOUT_S = 1800


def _ours(folder: Path) -> bool:
    try:
        return bool(json.loads((folder / "package.json").read_text()).get("name") == _PACKAGE_NAME)
    except (OSError, ValueError):
        return False


def checkout_root() -> Path | None:
    """Bulwark's source checkout (or ``BULWARK_HOME``), or ``None`` for an installed package."""
    env = os.environ.get("BULWARK_HOME")
    if env:
        return Path(env).resolve()
    for start in (Path(__file__).resolve(), Path.cwd().resolve()):
        for folder in (start, *start.parents):
            if _ours(folder):
                return folder
    return None


@cache
def project_root() -> Path:
    """The folder holding Bulwark's ``package.json`` and ``node_modules``: the checkout (or
    ``BULWARK_HOME``), else the managed folder in the cache (its manifest in place, its packages
    installed only when first needed)."""
    root = checkout_root()
    if root is not None:
        return root
    managed = cache_dir() / "node"
    managed.mkdir(parents=True, exist_ok=True)
    for name in _MANIFEST_FILES:
        shipped = (_MANIFEST / name).read_bytes()
        target = managed / name
        if not target.is_file() or target.read_bytes() != shipped:
            target.write_bytes(shipped)
    return managed


def _managed() -> bool:
    return checkout_root() is None


@contextmanager
def _locked(path: Path) -> Iterator[None]:
    with path.open("a") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def _lock_digest(root: Path) -> str:
    return hashlib.sha256((root / "package-lock.json").read_bytes()).hexdigest()


def ensure_node_parts() -> Path:
    """``node_modules`` of :func:`project_root`, installed with ``npm ci`` first if Bulwark manages it."""
    root = project_root()
    modules = root / "node_modules"
    if not _managed():
        return modules
    marker = modules / _MARKER
    digest = _lock_digest(root)
    if marker.is_file() and marker.read_text().strip() == digest:
        return modules
    with _locked(root / ".install.lock"):
        if marker.is_file() and marker.read_text().strip() == digest:
            return modules  # another process finished it while we waited
        npm = shutil.which("npm")
        if npm is None or shutil.which("node") is None:
            raise ToolchainError(
                f"Bulwark's node parts (solcjs, anvil, forge, OpenZeppelin) are not installed in {root} "
                "and node/npm are not on PATH: install Node.js 18+ with npm, then run the command again"
            )
        cmd = [npm, "ci", "--no-audit", "--no-fund", "--prefer-offline", "--loglevel=error"]
        try:
            proc = subprocess.run(
                cmd, cwd=root, capture_output=True, text=True, timeout=_NPM_CI_TIMEOUT_S, check=False
            )
            problem = (proc.stderr or proc.stdout).strip().splitlines()[-1:] if proc.returncode else []
        except (OSError, subprocess.TimeoutExpired) as exc:
            problem = [f"{type(exc).__name__}: {exc}"]
        if problem or not modules.is_dir():
            detail = problem[0] if problem else "no node_modules"
            raise ToolchainError(f"`npm ci` in {root} failed ({detail}); check the network and run it again")
        marker.write_text(digest + "\n")
    return modules


def node_modules() -> Path:
    return ensure_node_parts()


def foundry_bin(tool: str) -> Path:
    """``anvil``, ``forge`` or ``cast``: the pinned npm package's, else Foundry's on ``PATH``."""
    root = project_root()
    pinned = root / "node_modules" / "@foundry-rs" / f"{tool}-linux-amd64" / "bin" / tool
    if pinned.is_file():
        return pinned
    on_path = shutil.which(tool)
    if on_path is not None:
        return Path(on_path)
    if _managed():
        pinned = ensure_node_parts() / "@foundry-rs" / f"{tool}-linux-amd64" / "bin" / tool
        if pinned.is_file():
            return pinned
    raise ToolchainError(
        f"{tool} is not installed at {pinned} nor on PATH; run `make setup` (npm ci) or install Foundry"
    )


def cache_dir() -> Path:
    """Per-user cache (compiler outputs, on-demand solcjs releases): ``BULWARK_CACHE`` or XDG."""
    base = os.environ.get("BULWARK_CACHE")
    if base:
        path = Path(base)
    else:
        xdg = os.environ.get("XDG_CACHE_HOME")
        path = (Path(xdg) if xdg else Path.home() / ".cache") / "bulwark"
    path.mkdir(parents=True, exist_ok=True)
    return path
