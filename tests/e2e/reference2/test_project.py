"""The LendHub project on disk: its sources give nothing away, its fixes are minimal, its attack
manifests and foundry.toml are read strictly. (No chain needed.)"""

from __future__ import annotations

import difflib
import shutil
from pathlib import Path

import pytest
from tests.unit.scenarios.test_corpus import COMMENT, HINT_WORDS

from bulwark.errors import ScenarioError
from bulwark.scenarios.lendhub import lendhub_project, load_attacks, load_foundry_project
from bulwark.scenarios.lendhub.attacks import load_script

ROOT = lendhub_project().root
# OpenZeppelin's upgrades-plugin annotation is tooling, not prose.
OZ_TAG = "@custom:oz-upgrades-unsafe-allow constructor"


def test_protocol_sources_carry_no_hint_comments() -> None:
    offenders = []
    for path in sorted((ROOT / "src").rglob("*.sol")):
        for comment in COMMENT.findall(path.read_text()):
            for m in HINT_WORDS.finditer(comment.replace(OZ_TAG, "")):
                offenders.append(f"{path.name}: {m.group(0)!r} in {comment.strip()[:80]!r}")
    assert not offenders


def test_no_base_contract_from_bulwark() -> None:
    for path in (ROOT / "src").rglob("*.sol"):
        text = path.read_text()
        assert "contracts/protocol" not in text and "Bulwark" not in text, path.name


@pytest.mark.parametrize("name", sorted(load_attacks(ROOT)))
def test_each_reference_fix_is_a_small_edit_of_the_vulnerable_function(name: str) -> None:
    attack = load_attacks(ROOT)[name]
    src = (ROOT / attack.source).read_text().splitlines()
    fix = (ROOT / attack.fix).read_text().splitlines()
    changed = [ln for ln in difflib.unified_diff(src, fix, lineterm="", n=0) if ln[:1] in "+-"]
    changed = [ln for ln in changed if not ln.startswith(("+++", "---")) and ln[1:].strip()]
    assert 0 < len(changed) <= 8, changed
    assert callable(load_script(ROOT, attack))


def test_foundry_settings_are_read_from_the_project() -> None:
    project = load_foundry_project(ROOT)
    assert (project.solc_version, project.optimizer, project.optimizer_runs) == ("0.8.26", True, 200)
    assert project.evm_version == "cancun" and project.via_ir is False
    assert any(r.startswith("@openzeppelin/contracts-upgradeable/=") for r in project.remappings)


def test_a_project_without_a_pinned_compiler_is_refused(tmp_path: Path) -> None:
    (tmp_path / "foundry.toml").write_text('[profile.default]\nsrc = "src"\n')
    with pytest.raises(ScenarioError, match="set solc_version"):
        load_foundry_project(tmp_path)
    (tmp_path / "foundry.toml").write_text("[profile.default\n")
    with pytest.raises(ScenarioError, match="not valid TOML"):
        load_foundry_project(tmp_path)


def test_a_broken_attack_manifest_fails_the_load(tmp_path: Path) -> None:
    shutil.copytree(ROOT / "src", tmp_path / "src")
    shutil.copytree(ROOT / "fix", tmp_path / "fix")
    shutil.copytree(ROOT / "attacks", tmp_path / "attacks")
    manifest = tmp_path / "attacks" / "vault-pool-migration" / "manifest.yaml"
    manifest.write_text(manifest.read_text().replace("class: access-control", "class: magic"))
    with pytest.raises(ScenarioError, match="unknown class 'magic'"):
        load_attacks(tmp_path)
    manifest.write_text(manifest.read_text().replace("class: magic", "class: access-control"))
    (tmp_path / "fix" / "SavingsVault.sol").unlink()
    with pytest.raises(ScenarioError, match=r"fix/SavingsVault\.sol does not exist"):
        load_attacks(tmp_path)
