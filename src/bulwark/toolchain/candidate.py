"""A patched candidate written to disk so the compiler can take it like the original.

Patches come back as whole source units keyed by project-relative path; compiling one needs the
unit's neighbours too (its imports). :func:`write_candidate` mirrors the original file's place in
the project under a work folder, copies its sibling ``.sol`` files and writes the patched units
over them.
"""

from __future__ import annotations

import shutil
from collections.abc import Mapping
from pathlib import Path

from bulwark.errors import ToolchainError
from bulwark.toolchain.paths import project_root

__all__ = ["write_candidate"]


def write_candidate(
    workdir: Path,
    index: int,
    patched: Mapping[str, str],
    original: Path,
    *,
    root: Path | None = None,
    tree: str | None = None,
) -> Path:
    """Candidate ``index`` under ``workdir/candidate-<index>`` (replaced if present), laid out as
    the project under ``root`` (default: Bulwark's checkout); returns the patched ``original``.

    ``tree`` (a project's source folder, e.g. ``src``) is copied whole, tests left out, so that
    relative imports across its folders resolve; without it, the original's siblings are."""
    root = (root or project_root()).resolve()
    try:
        rel = original.resolve().relative_to(root)
    except ValueError:
        raise ToolchainError(f"{original} is outside {root}: give the project root it belongs to") from None
    base = workdir / f"candidate-{index}"
    if base.exists():
        shutil.rmtree(base)
    mirror = base / rel.parent
    if tree is not None and (root / tree).is_dir():
        shutil.copytree(root / tree, base / tree, ignore=shutil.ignore_patterns("*.t.sol"))
    mirror.mkdir(parents=True, exist_ok=True)
    if tree is None:
        for sol in original.parent.glob("*.sol"):
            shutil.copyfile(sol, mirror / sol.name)
    for unit, text in patched.items():
        dest = (base / unit).resolve()
        if not dest.is_relative_to(base.resolve()):  # a unit name is data: it must stay inside
            raise ToolchainError(f"patched unit {unit!r} would be written outside {base}")
        dest.parent.mkdir(parents=True, exist_ok=True)
        dest.write_text(text)
    return base / rel
