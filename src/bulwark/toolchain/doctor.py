"""Health checks for everything Bulwark runs; ``bulwark doctor`` prints them."""

from __future__ import annotations

import importlib
import shutil
import subprocess
from collections.abc import Callable
from dataclasses import dataclass

from bulwark.errors import BulwarkError
from bulwark.toolchain.paths import checkout_root, ensure_node_parts, foundry_bin, node_modules
from bulwark.toolchain.versions import bundled_solc


@dataclass(frozen=True, slots=True)
class Check:
    name: str
    ok: bool
    detail: str


_PY_DEPS = (
    "web3",
    "eth_account",
    "eth_abi",
    "hypothesis",
    "rlp",
    "pydantic",
    "typer",
    "structlog",
    "sqlalchemy",
    "alembic",
    "yaml",
    "slither",
    "crytic_compile",
)


def _python_deps() -> str:
    missing = []
    for mod in _PY_DEPS:
        try:
            importlib.import_module(mod)
        except Exception:
            missing.append(mod)
    if missing:
        raise BulwarkError(f"missing Python modules: {', '.join(missing)}; run `make setup`")
    return f"{len(_PY_DEPS)} modules import"


def _run(cmd: list[str], timeout: float = 60) -> str:
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise BulwarkError(f"{cmd[0]} failed: {exc}") from exc
    if proc.returncode != 0:
        raise BulwarkError(f"{cmd[0]} exited {proc.returncode}: {(proc.stderr or proc.stdout).strip()[:200]}")
    return proc.stdout.strip().splitlines()[0] if proc.stdout.strip() else ""


def _node() -> str:
    node = shutil.which("node")
    if not node:
        raise BulwarkError("node is not on PATH; install Node.js 18 or newer")
    return _run([node, "--version"])


def _node_parts() -> str:
    """Where the pinned npm packages are; an installed Bulwark fetches them here on first use."""
    modules = ensure_node_parts()
    return f"{modules}" + ("" if checkout_root() is not None else " (Bulwark's cache)")


def _foundry(tool: str) -> Callable[[], str]:
    return lambda: _run([str(foundry_bin(tool)), "--version"])


def _solcjs(version: str, package: str) -> Callable[[], str]:
    def check() -> str:
        from bulwark.toolchain.solc import Compiler

        pkg = node_modules() / package
        if not (pkg / "soljson.js").is_file():
            raise BulwarkError(f"solcjs {version} missing at {pkg}; run `make setup`")
        # Really start the compiler: a broken soljson.js or node shows up here, not mid-incident.
        with Compiler() as compiler:
            long_version = compiler.long_version(version)
        if not long_version.startswith(f"{version}+"):
            raise BulwarkError(f"{package} reports solc {long_version}, expected {version}; run `make setup`")
        return f"{package}: {long_version}"

    return check


def _slither() -> str:
    mod = importlib.import_module("slither")
    from importlib.metadata import version

    return f"slither-analyzer {version('slither-analyzer')} at {mod.__file__}"


def checks() -> list[tuple[str, Callable[[], str]]]:
    out: list[tuple[str, Callable[[], str]]] = [
        ("python-deps", _python_deps),
        ("node", _node),
        ("node-parts", _node_parts),
        ("anvil", _foundry("anvil")),
        ("forge", _foundry("forge")),
        ("cast", _foundry("cast")),
    ]
    out += [(f"solc-{v}", _solcjs(v, pkg)) for v, pkg in bundled_solc().items()]
    out.append(("slither", _slither))
    return out


def run_checks() -> list[Check]:
    results: list[Check] = []
    for name, fn in checks():
        try:
            results.append(Check(name, True, fn()))
        except BulwarkError as exc:
            results.append(Check(name, False, exc.user_message))
        except Exception as exc:
            results.append(Check(name, False, f"{type(exc).__name__}: {exc}"))
    return results
