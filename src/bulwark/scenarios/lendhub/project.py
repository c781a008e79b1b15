"""LendHub's Foundry project, read by the toolchain's general project reader.

    project = load_foundry_project(LENDHUB_ROOT)
    with project.compiler() as compiler:
        result = project.compile(compiler, [Path("src/LendingPool.sol")])

The reader (:mod:`bulwark.toolchain.project`) takes the compiler version, optimizer, runs, EVM
version and via-IR from ``[profile.default]`` and the remappings from ``remappings.txt``; the
reference protocol must pin its compiler, so its deployments are reproducible.
"""

from __future__ import annotations

from pathlib import Path

from bulwark.errors import ScenarioError
from bulwark.toolchain.paths import project_root
from bulwark.toolchain.project import CompileInput, ProjectError, load_foundry

LENDHUB_ROOT = Path("scenarios/protocols/lendhub")
"""The second reference protocol, relative to Bulwark's checkout."""

FoundryProject = CompileInput


def load_foundry_project(root: Path) -> CompileInput:
    """Read ``foundry.toml`` and ``remappings.txt``; fail on what is missing (a pinned compiler too)."""
    root = (root if root.is_absolute() else project_root() / root).resolve()
    try:
        project = load_foundry(root)
    except ProjectError as exc:
        raise ScenarioError(exc.user_message) from exc
    if project.solc_version is None:
        raise ScenarioError(f'{project.path}: set solc_version in [profile.default] (e.g. "0.8.26")')
    return project
