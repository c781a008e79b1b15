"""Where the node-side parts (npm packages) and Bulwark's caches live."""

from __future__ import annotations

import json
import os
from functools import cache
from pathlib import Path

from bulwark.errors import ToolchainError

_PACKAGE_NAME = "bulwark-toolchain"


@cache
def project_root() -> Path:
    """The folder holding Bulwark's ``package.json`` and ``node_modules``.

    ``BULWARK_HOME`` wins; otherwise walk up from this file (editable install) and then from the
    working directory.
    """
    env = os.environ.get("BULWARK_HOME")
    if env:
        return Path(env).resolve()
    for start in (Path(__file__).resolve(), Path.cwd().resolve()):
        for folder in (start, *start.parents):
            pkg = folder / "package.json"
            if pkg.is_file():
                try:
                    if json.loads(pkg.read_text()).get("name") == _PACKAGE_NAME:
                        return folder
                except (OSError, ValueError):
                    continue
    raise ToolchainError(
        "cannot find Bulwark's package.json; run from the checkout or set BULWARK_HOME to it"
    )


def node_modules() -> Path:
    return project_root() / "node_modules"


def foundry_bin(tool: str) -> Path:
    """Path of ``anvil``, ``forge`` or ``cast`` from the pinned npm packages."""
    path = node_modules() / "@foundry-rs" / f"{tool}-linux-amd64" / "bin" / tool
    if not path.is_file():
        raise ToolchainError(f"{tool} is not installed at {path}; run `make setup` (npm ci) first")
    return path


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
