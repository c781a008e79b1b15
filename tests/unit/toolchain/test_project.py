"""Reading a team's project: Foundry settings and remappings, standard-JSON inputs, Hardhat build
info; each bad file is one line naming it. Compiling goes through solcjs."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from bulwark.toolchain.project import ProjectError, load_project
from bulwark.toolchain.solc import Compiler

TOKEN = """// SPDX-License-Identifier: MIT
pragma solidity ^0.8.19;
import "dep/Math.sol";
contract Token { function twice(uint256 x) external pure returns (uint256) { return Math.double(x); } }
"""
MATH = """// SPDX-License-Identifier: MIT
pragma solidity ^0.8.19;
library Math { function double(uint256 x) internal pure returns (uint256) { return 2 * x; } }
"""


@pytest.fixture(scope="module")
def compiler() -> Iterator[Compiler]:
    with Compiler() as c:
        yield c


def _foundry(root: Path, toml: str) -> Path:
    (root / "src").mkdir(parents=True)
    (root / "src" / "Token.sol").write_text(TOKEN)
    (root / "lib" / "dep" / "src").mkdir(parents=True)
    (root / "lib" / "dep" / "src" / "Math.sol").write_text(MATH)
    (root / "foundry.toml").write_text(toml)
    return root


def test_foundry_settings_and_library_remappings(tmp_path: Path) -> None:
    root = _foundry(
        tmp_path,
        '[profile.default]\nsolc_version = "0.8.26"\noptimizer = true\noptimizer_runs = 999\n'
        'evm_version = "paris"\nvia_ir = true\nremappings = ["x/=lib/x/"]\n',
    )
    (root / "remappings.txt").write_text("# ours\ny/=lib/y/\n")
    project = load_project(root)
    assert project.kind == "foundry" and project.root == root.resolve()
    assert (project.solc_version, project.optimizer, project.optimizer_runs) == ("0.8.26", True, 999)
    assert (project.evm_version, project.via_ir) == ("paris", True)
    # forge's automatic remapping for lib/dep (its src/ folder) first; explicit ones win after it.
    assert project.remappings == ("dep/=lib/dep/src/", "y/=lib/y/", "x/=lib/x/")
    assert project.source_files() == ("src/Token.sol",)


def test_a_foundry_project_compiles_with_its_settings(tmp_path: Path, compiler: Compiler) -> None:
    project = load_project(_foundry(tmp_path, '[profile.default]\noptimizer = true\nevm_version = "paris"\n'))
    assert project.solc_version is None and project.optimizer_runs == 200
    with project.compiler() as own:
        result = project.compile(own, version="0.8.19")
    assert result.version == "0.8.19"
    assert result.settings["evmVersion"] == "paris" and result.settings["optimizer"]["enabled"] is True
    assert result.contract("Token").deployed_bytecode


def test_standard_json_input_is_compiled_as_given(tmp_path: Path, compiler: Compiler) -> None:
    doc = {
        "language": "Solidity",
        "sources": {"src/Token.sol": {"content": TOKEN}, "lib/Math.sol": {"content": MATH}},
        "settings": {
            "optimizer": {"enabled": True, "runs": 50},
            "remappings": ["dep/=lib/"],
            "evmVersion": "shanghai",
            "metadata": {"bytecodeHash": "none"},
            "outputSelection": {"*": {"*": ["abi"]}},
        },
    }
    path = tmp_path / "input.json"
    path.write_text(json.dumps(doc))
    project = load_project(path)
    assert project.kind == "standard-json" and project.source_files() == ("lib/Math.sol", "src/Token.sol")
    assert (project.optimizer, project.optimizer_runs, project.evm_version) == (True, 50, "shanghai")
    result = project.compile(compiler, version="0.8.26")
    assert result.settings["metadata"] == {"bytecodeHash": "none"}  # kept: it shapes the bytecode
    assert result.contract("src/Token.sol:Token").deployed_bytecode


def test_hardhat_build_info(tmp_path: Path) -> None:
    (tmp_path / "hardhat.config.ts").write_text("export default {}\n")
    with pytest.raises(ProjectError, match=r"found none.*npx hardhat compile"):
        load_project(tmp_path)
    info = tmp_path / "artifacts" / "build-info"
    info.mkdir(parents=True)
    std = {"language": "Solidity", "sources": {"contracts/T.sol": {"content": TOKEN}}, "settings": {}}
    (info / "abc.json").write_text(json.dumps({"solcVersion": "0.8.26", "input": std, "output": {}}))
    project = load_project(tmp_path)
    assert (project.kind, project.solc_version, project.root) == ("hardhat", "0.8.26", tmp_path.resolve())
    (info / "def.json").write_text("{}")
    with pytest.raises(ProjectError, match=r"found 2: abc\.json, def\.json"):
        load_project(tmp_path)


@pytest.mark.parametrize(
    ("files", "message"),
    [
        ({"foundry.toml": "[profile.default\n"}, "not valid TOML"),
        (
            {"foundry.toml": "[profile.default]\noptimizer_runs = -1\n"},
            "optimizer_runs must be a non-negative",
        ),
        ({"foundry.toml": "[profile.default]\nsolc_version = 8\n"}, "solc_version must be a version string"),
        ({"foundry.toml": "[profile.default]\n", "remappings.txt": "nonsense\n"}, "is not a prefix=target"),
        ({"foundry.toml": "[profile.other]\n"}, r"\[profile.default\] is missing"),
        ({"in.json": "{"}, "is not valid JSON"),
        ({"in.json": '{"language": "Vyper", "sources": {}}'}, "not a Solidity standard-JSON input"),
        ({"in.json": '{"sources": {"a.sol": {"urls": ["ipfs://x"]}}}'}, "has no inline content"),
        ({"README.md": "hi"}, "no foundry.toml or hardhat.config"),
    ],
)
def test_bad_projects_are_one_line_naming_the_file(
    tmp_path: Path, files: dict[str, str], message: str
) -> None:
    for name, text in files.items():
        (tmp_path / name).write_text(text)
    target = tmp_path / "in.json" if "in.json" in files else tmp_path
    with pytest.raises(ProjectError, match=message) as info:
        load_project(target)
    assert "\n" not in info.value.user_message and info.value.exit_code == 2


def test_a_missing_path_says_what_to_give(tmp_path: Path) -> None:
    with pytest.raises(ProjectError, match="does not exist: give a Foundry or Hardhat project folder"):
        load_project(tmp_path / "nowhere")
