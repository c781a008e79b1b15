"""Every attack scenario's vulnerable implementation gets a compiling, ABI- and layout-preserving patch
of the scenario's class, on the function the scenario names (or one it shares state with)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from bulwark.patch import PatchRequest, generate
from bulwark.toolchain.paths import project_root
from bulwark.toolchain.solc import Compiler

ROOT = project_root()
SCENARIOS = sorted(
    p.parent for p in (ROOT / "scenarios").glob("*/manifest.yaml") if not p.parent.name.startswith(("_", "."))
)


@pytest.fixture(scope="module")
def compiler() -> Iterator[Compiler]:
    with Compiler(root=ROOT) as c:
        yield c


@pytest.mark.e2e
@pytest.mark.parametrize("folder", SCENARIOS, ids=[p.name for p in SCENARIOS])
def test_scenario_gets_a_patch_of_its_class(folder: Path, compiler: Compiler) -> None:
    manifest = yaml.safe_load((folder / "manifest.yaml").read_text())
    source = folder / manifest["source"]
    patches = generate(
        PatchRequest(paths=[source], contract=manifest["contract"], use_slither=False), compiler=compiler
    )
    assert patches, f"no patch for {folder.name}"
    best = patches[0]
    assert best.compiled and best.vuln_class.value == manifest["class"]
    assert best.solc_version == compiler.version_for(source.read_text())
    # the patch edits the scenario's contract file only
    assert set(best.patched_sources) == {source.relative_to(ROOT).as_posix()}
