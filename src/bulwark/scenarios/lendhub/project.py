"""A Foundry project as its team wrote it: ``foundry.toml`` settings and remappings, compiled by solcjs.

    project = load_foundry_project(LENDHUB_ROOT)
    with project.compiler() as compiler:
        result = project.compile(compiler, [Path("src/LendingPool.sol")])

The compiler version, optimizer, runs, EVM version and via-IR come from ``[profile.default]``;
remappings from ``remappings.txt`` and the profile's ``remappings`` list (solc applies them, so the
sources resolve exactly as forge resolves them).
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bulwark.errors import ScenarioError
from bulwark.toolchain.artifacts import CompileResult
from bulwark.toolchain.forge import ForgeRun, run_tests
from bulwark.toolchain.paths import project_root
from bulwark.toolchain.solc import Compiler

LENDHUB_ROOT = Path("scenarios/protocols/lendhub")
"""The second reference protocol, relative to Bulwark's checkout."""


@dataclass(frozen=True, slots=True)
class FoundryProject:
    root: Path
    src: str
    test: str
    solc_version: str
    optimizer: bool
    optimizer_runs: int
    evm_version: str | None
    via_ir: bool
    remappings: tuple[str, ...]

    def compiler(self, *, cache: Path | None = None) -> Compiler:
        """A solcjs compiler rooted at the project with its remappings (close it when done)."""
        return Compiler(root=self.root, remappings=self.remappings, cache=cache)

    def compile(self, compiler: Compiler, paths: Sequence[Path]) -> CompileResult:
        """Compile ``paths`` (relative to the project root) with the project's settings."""
        return compiler.compile_files(
            list(paths),
            version=self.solc_version,
            optimize=self.optimizer,
            runs=self.optimizer_runs,
            evm_version=self.evm_version,
            via_ir=self.via_ir,
        )

    def forge_test(self, *, cache: Path | None = None, timeout: float = 600) -> ForgeRun:
        """``forge test --offline`` through the solc shim, at the project's pinned version."""
        return run_tests(
            self.root,
            solc_version=self.solc_version,
            src=self.src,
            test=self.test,
            cache=cache,
            timeout=timeout,
        )


def load_foundry_project(root: Path) -> FoundryProject:
    """Read ``foundry.toml`` (profile ``default``) and ``remappings.txt``; fail on what is missing."""
    root = (root if root.is_absolute() else project_root() / root).resolve()
    config_path = root / "foundry.toml"
    try:
        config = tomllib.loads(config_path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ScenarioError(f"cannot read {config_path}: {exc.strerror or exc}") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ScenarioError(f"{config_path} is not valid TOML: {exc}") from exc
    profile = _table(config.get("profile", {}), "profile", config_path).get("default")
    profile = _table(profile, "profile.default", config_path)
    version = profile.get("solc_version", profile.get("solc"))
    if not isinstance(version, str) or not version:
        raise ScenarioError(f'{config_path}: set solc_version in [profile.default] (e.g. "0.8.26")')
    remappings = [*_remappings_file(root / "remappings.txt"), *_strings(profile, "remappings", config_path)]
    return FoundryProject(
        root=root,
        src=_string(profile, "src", "src", config_path),
        test=_string(profile, "test", "test", config_path),
        solc_version=version,
        optimizer=bool(profile.get("optimizer", False)),
        optimizer_runs=int(profile.get("optimizer_runs", 200)),
        evm_version=profile.get("evm_version"),
        via_ir=bool(profile.get("via_ir", False)),
        remappings=tuple(remappings),
    )


def _table(value: Any, name: str, path: Path) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise ScenarioError(f"{path}: [{name}] is missing or not a table")
    return value


def _string(profile: Mapping[str, Any], key: str, default: str, path: Path) -> str:
    value = profile.get(key, default)
    if not isinstance(value, str):
        raise ScenarioError(f"{path}: {key} must be a string")
    return value


def _strings(profile: Mapping[str, Any], key: str, path: Path) -> list[str]:
    value = profile.get(key, [])
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ScenarioError(f"{path}: {key} must be a list of strings")
    return list(value)


def _remappings_file(path: Path) -> list[str]:
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        return []
    except OSError as exc:
        raise ScenarioError(f"cannot read {path}: {exc.strerror or exc}") from exc
    out = [ln.strip() for ln in lines if ln.strip() and not ln.lstrip().startswith("#")]
    bad = [ln for ln in out if "=" not in ln]
    if bad:
        raise ScenarioError(f"{path}: {bad[0]!r} is not a prefix=target remapping")
    return out
