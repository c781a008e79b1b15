"""A candidate written beside the project: with ``tree``, the whole source folder comes along (a
patched unit's relative imports across folders resolve), tests do not; without it, its siblings."""

from __future__ import annotations

from pathlib import Path

import pytest

from bulwark.errors import ToolchainError
from bulwark.toolchain.candidate import write_candidate


def _project(root: Path) -> Path:
    for rel in ("src/core/Pool.sol", "src/core/Math.sol", "src/interfaces/IPool.sol", "src/core/Pool.t.sol"):
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(f"// {rel}\n")
    return root / "src/core/Pool.sol"


def test_tree_mode_copies_the_source_folder_without_tests(tmp_path: Path) -> None:
    original = _project(tmp_path / "proj")
    out = write_candidate(
        tmp_path / "work",
        0,
        {"src/core/Pool.sol": "// patched\n"},
        original,
        root=tmp_path / "proj",
        tree="src",
    )
    base = tmp_path / "work" / "candidate-0"
    assert out == base / "src/core/Pool.sol" and out.read_text() == "// patched\n"
    assert (base / "src/interfaces/IPool.sol").is_file()  # ../interfaces/IPool.sol resolves
    assert not (base / "src/core/Pool.t.sol").exists()


def test_sibling_mode_copies_the_folder_of_the_original_only(tmp_path: Path) -> None:
    original = _project(tmp_path / "proj")
    write_candidate(
        tmp_path / "work", 1, {"src/core/Pool.sol": "// patched\n"}, original, root=tmp_path / "proj"
    )
    base = tmp_path / "work" / "candidate-1"
    assert (base / "src/core/Math.sol").is_file() and not (base / "src/interfaces").exists()


def test_a_unit_outside_the_candidate_is_refused(tmp_path: Path) -> None:
    original = _project(tmp_path / "proj")
    with pytest.raises(ToolchainError):
        write_candidate(
            tmp_path / "work", 2, {"../../x.sol": ""}, original, root=tmp_path / "proj", tree="src"
        )
