"""Every attack scenario's vulnerable implementation gets a patch that compiles, keeps the ABI and the
storage layout, makes the scenario's attack fail and keeps the benign traffic working.

One compiler for the whole module; each scenario is patched once (module cache) and the patched
implementation is deployed through the scenario runner on a fresh anvil, from a stable path in the
user cache that mirrors the original path (so relative imports resolve and solc's cache stays warm).
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from functools import cache
from pathlib import Path

import pytest
import yaml

from bulwark.domain.patch import Patch
from bulwark.patch import PatchRequest, generate
from bulwark.scenarios.corpus import load_corpus
from bulwark.scenarios.protocol import ImplSpec
from bulwark.scenarios.runner import RunOptions, run_scenario
from bulwark.toolchain.paths import cache_dir, project_root
from bulwark.toolchain.solc import Compiler

pytestmark = pytest.mark.e2e

ROOT = project_root()
SCENARIOS = sorted(
    p.parent for p in (ROOT / "scenarios").glob("*/manifest.yaml") if not p.parent.name.startswith(("_", "."))
)
BENIGN_BEFORE = 8
BENIGN_AFTER = 8


@pytest.fixture(scope="module")
def compiler() -> Iterator[Compiler]:
    with Compiler(root=ROOT) as c:
        yield c


@cache
def _patches(folder: Path, compiler: Compiler) -> tuple[Patch, ...]:
    manifest = yaml.safe_load((folder / "manifest.yaml").read_text())
    return tuple(
        generate(
            PatchRequest(
                paths=[folder / manifest["source"]], contract=manifest["contract"], use_slither=False
            ),
            compiler=compiler,
        )
    )


def _materialise(folder: Path, patch: Patch) -> Path:
    """Write the scenario folder with the patch applied under the cache, mirroring its path."""
    base = cache_dir() / "patch-scenarios"
    mirror = base / folder.relative_to(ROOT)
    for sol in folder.glob("*.sol"):
        dest = mirror / sol.name
        dest.parent.mkdir(parents=True, exist_ok=True)
        if not dest.is_file() or dest.read_bytes() != sol.read_bytes():
            shutil.copyfile(sol, dest)
    for rel, text in patch.patched_sources.items():
        dest = base / rel
        dest.parent.mkdir(parents=True, exist_ok=True)
        if not dest.is_file() or dest.read_text() != text:
            dest.write_text(text)
    return mirror


@pytest.mark.parametrize("folder", SCENARIOS, ids=[p.name for p in SCENARIOS])
def test_scenario_gets_a_patch_of_its_class(folder: Path, compiler: Compiler) -> None:
    manifest = yaml.safe_load((folder / "manifest.yaml").read_text())
    source = folder / manifest["source"]
    patches = _patches(folder, compiler)
    assert patches, f"no patch for {folder.name}"
    best = patches[0]
    assert best.compiled and best.vuln_class.value == manifest["class"]
    assert best.solc_version == compiler.version_for(source.read_text())
    # the patch edits the scenario's contract file only
    assert set(best.patched_sources) == {source.relative_to(ROOT).as_posix()}


@pytest.mark.parametrize("folder", SCENARIOS, ids=[p.name for p in SCENARIOS])
def test_top_patch_stops_the_attack_and_keeps_benign_traffic(folder: Path, compiler: Compiler) -> None:
    scenario = load_corpus().get(folder.name)
    patches = _patches(folder, compiler)
    assert patches, f"no patch for {folder.name}"
    mirror = _materialise(folder, patches[0])
    impl = ImplSpec(mirror / scenario.vulnerable.source.name, scenario.vulnerable.contract)
    result = run_scenario(
        scenario,
        RunOptions(benign_txs=BENIGN_BEFORE, implementation=impl, benign_after_attack=BENIGN_AFTER),
        compiler=compiler,
    )
    assert result.implementation == str(impl.source_path)
    assert not result.attack_succeeded, f"{folder.name}: the attack still takes {result.loss_wei} wei"
    assert result.loss_wei == 0
    # benign users before and after the attack: nothing of theirs reverts on the patched contract
    assert result.benign.txs == BENIGN_BEFORE and result.benign.reverted == 0, result.benign.to_json()
    assert result.benign_after is not None
    assert result.benign_after.reverted == 0, result.benign_after.to_json()
