"""The solcjs releases bundled through npm aliases (``solc0824@npm:solc@0.8.24``)."""

from __future__ import annotations

import json
import re
from functools import cache

from bulwark.toolchain.paths import project_root

_ALIAS = re.compile(r"^npm:solc@(\d+\.\d+\.\d+)$")
# solc's standard JSON (and the solcjs import callback) starts at 0.4.11.
OLDEST_SUPPORTED = "0.4.11"


@cache
def bundled_solc() -> dict[str, str]:
    """Map of solc version -> npm package name, read from ``package.json``."""
    deps = json.loads((project_root() / "package.json").read_text())["dependencies"]
    out: dict[str, str] = {}
    for name, spec in deps.items():
        m = _ALIAS.match(spec)
        if m:
            out[m.group(1)] = name
    return dict(sorted(out.items(), key=lambda kv: tuple(int(p) for p in kv[0].split("."))))


def version_key(version: str) -> tuple[int, ...]:
    return tuple(int(p) for p in version.split("+", maxsplit=1)[0].split("."))


def newest_bundled() -> str:
    return max(bundled_solc(), key=version_key)
