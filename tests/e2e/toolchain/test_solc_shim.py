"""The solc shim answers like native solc: --version, --standard-json, --combined-json."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import pytest

from bulwark.toolchain.shim import shim_path

pytestmark = pytest.mark.e2e


def _run(
    shim: Path, *args: str, stdin: str | None = None, cwd: Path | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(shim), *args], input=stdin, capture_output=True, text=True, timeout=120, cwd=cwd, check=False
    )


@pytest.mark.parametrize("version", ["0.4.24", "0.8.37"])
def test_version_banner_like_native_solc(solc_cache: Path, version: str) -> None:
    proc = _run(shim_path(version, cache=solc_cache), "--version")
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert lines[0] == "solc, the solidity compiler commandline interface"
    assert re.fullmatch(rf"Version: {re.escape(version)}\+commit\.[0-9a-f]{{8}}\.Emscripten\.clang", lines[1])


def test_standard_json_fills_urls_and_resolves_imports(solc_cache: Path, tmp_path: Path) -> None:
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "T.sol").write_text(
        'pragma solidity ^0.8.20;\nimport {Ownable} from "@oz/access/Ownable.sol";\n'
        "contract T is Ownable { constructor() Ownable(msg.sender) {} }\n"
    )
    std = {
        "language": "Solidity",
        "sources": {"src/T.sol": {"urls": ["src/T.sol"]}},
        "settings": {
            "remappings": ["@oz/=node_modules/@openzeppelin/contracts/"],
            "outputSelection": {"*": {"*": ["abi", "evm.bytecode.object"]}},
        },
    }
    proc = _run(
        shim_path("0.8.37", cache=solc_cache),
        "--standard-json",
        "--base-path",
        str(tmp_path),
        stdin=json.dumps(std),
        cwd=tmp_path,
    )
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    assert not [e for e in out.get("errors", []) if e["severity"] == "error"], out.get("errors")
    assert out["contracts"]["src/T.sol"]["T"]["evm"]["bytecode"]["object"]
    assert "node_modules/@openzeppelin/contracts/access/Ownable.sol" in out["sources"]


def test_combined_json_below_08_uses_strings_and_legacy_ast(
    solc_cache: Path, solidity_fixtures: Path
) -> None:
    shim = shim_path("0.4.24", cache=solc_cache)
    proc = _run(
        shim,
        "--combined-json",
        "abi,bin,bin-runtime,srcmap,hashes,userdoc,devdoc,ast",
        "Reentrancy.sol",
        cwd=solidity_fixtures,
    )
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    art = out["contracts"]["Reentrancy.sol:EtherStore"]
    assert isinstance(art["abi"], str) and any(f.get("name") == "withdraw" for f in json.loads(art["abi"]))
    assert isinstance(art["userdoc"], str) and isinstance(art["devdoc"], str)
    assert art["hashes"]["withdraw()"] and art["bin"] and art["bin-runtime"]
    assert list(out["sources"]["Reentrancy.sol"]) == ["legacyAST"]
    assert out["sourceList"] == ["Reentrancy.sol"]
    assert out["version"].startswith("0.4.24+commit.")
    compact = json.loads(
        _run(
            shim, "--combined-json", "abi,ast,compact-format", "Reentrancy.sol", cwd=solidity_fixtures
        ).stdout
    )
    assert compact["sources"]["Reentrancy.sol"]["AST"]["nodeType"] == "SourceUnit"


def test_combined_json_from_08_with_remappings(
    solc_cache: Path, solidity_fixtures: Path, tmp_path: Path
) -> None:
    nm = Path(__file__).resolve().parents[3] / "node_modules"
    shim = shim_path("0.8.37", cache=solc_cache)
    proc = _run(
        shim,
        "--combined-json",
        "abi,bin,ast,storage-layout",
        str(solidity_fixtures / "VaultUUPS.sol"),
        f"@openzeppelin/contracts-upgradeable/={nm}/@openzeppelin/contracts-upgradeable/",
        f"@openzeppelin/contracts/={nm}/@openzeppelin/contracts/",
        cwd=tmp_path,
    )
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    vault = out["contracts"][f"{solidity_fixtures / 'VaultUUPS.sol'}:VaultUUPS"]
    assert isinstance(vault["abi"], list)
    assert [s["label"] for s in vault["storage-layout"]["storage"]][:2] == ["asset", "totalShares"]
    assert all("AST" in s for s in out["sources"].values())


def test_combined_json_compile_error_goes_to_stderr(solc_cache: Path, tmp_path: Path) -> None:
    (tmp_path / "Bad.sol").write_text("pragma solidity ^0.8.0;\ncontract Bad { uint x }\n")
    proc = _run(shim_path("0.8.37", cache=solc_cache), "--combined-json", "abi", "Bad.sol", cwd=tmp_path)
    assert proc.returncode == 1
    assert "ParserError" in proc.stderr and proc.stdout == ""


def test_slither_cli_through_the_shim(solc_cache: Path, solidity_fixtures: Path, tmp_path: Path) -> None:
    """Slither's CLI with --solc <shim> (the combined-json path) sees the reentrancy; exit 255 = findings."""
    slither = Path(__import__("sys").executable).with_name("slither")
    target = tmp_path / "Reentrancy.sol"
    target.write_text((solidity_fixtures / "Reentrancy.sol").read_text())
    proc = subprocess.run(
        [
            str(slither),
            "Reentrancy.sol",
            "--solc",
            str(shim_path("0.4.24", cache=solc_cache)),
            "--detect",
            "reentrancy-eth",
            "--json",
            "-",
        ],
        capture_output=True,
        text=True,
        timeout=180,
        cwd=tmp_path,
        check=False,
    )
    assert proc.returncode == 255, proc.stderr[-2000:]
    report = json.loads(proc.stdout)
    checks = [d["check"] for d in report["results"]["detectors"]]
    assert checks == ["reentrancy-eth"]
