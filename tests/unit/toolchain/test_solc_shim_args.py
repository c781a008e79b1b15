"""The solc shim's command line and its combined-json shape, per solc version (no compiler needed)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bulwark.errors import UsageError
from bulwark.toolchain.shim import _combined_contract, _fill_contents, parse_args, shim_path


def test_parses_forge_and_crytic_compile_command_lines() -> None:
    a = parse_args(
        ["--solc-version", "0.8.26", "--allow-paths", "/p", "--base-path", "/p", "--standard-json"]
    )
    assert (a.mode, a.base_path, a.version) == ("standard-json", Path("/p"), "0.8.26")
    b = parse_args(
        [
            "--solc-version",
            "0.4.24",
            "--combined-json",
            "abi,ast,compact-format",
            "x.sol",
            "@oz/=lib/oz/",
        ]
    )
    assert b.combined_fields == ("abi", "ast", "compact-format")
    assert (b.files, b.remappings) == (["x.sol"], ["@oz/=lib/oz/"])
    c = parse_args(["--solc-version=0.8.1", "--optimize", "--optimize-runs=10", "--version"])
    assert (c.version, c.optimize, c.runs, c.mode) == ("0.8.1", True, 10, "version")


def test_ignored_options_consume_their_value() -> None:
    a = parse_args(["--solc-version", "0.8.26", "--allow-paths", "/p", "--standard-json"])
    assert a.files == [] and a.mode == "standard-json"


def test_unknown_options_are_refused_clearly() -> None:
    with pytest.raises(UsageError, match="does not support option --bogus"):
        parse_args(["--solc-version", "0.8.26", "--bogus"])
    with pytest.raises(UsageError, match="--solc-version"):
        parse_args(["--version"])


ART = {
    "abi": [{"type": "fallback"}],
    "userdoc": {"methods": {}},
    "devdoc": {"methods": {}},
    "evm": {"bytecode": {"object": "00"}, "methodIdentifiers": {"f()": "26121ff0"}},
}


def test_below_08_abi_and_docs_are_json_strings() -> None:
    out = _combined_contract(ART, ("abi", "userdoc", "devdoc", "bin", "hashes", "bin-runtime"), legacy=True)
    assert isinstance(out["abi"], str) and json.loads(out["abi"]) == ART["abi"]
    assert isinstance(out["devdoc"], str)
    assert out["bin"] == "00" and out["bin-runtime"] == ""
    assert out["hashes"] == {"f()": "26121ff0"}


def test_from_08_abi_and_docs_are_objects() -> None:
    out = _combined_contract(ART, ("abi", "userdoc"), legacy=False)
    assert out["abi"] == ART["abi"] and out["userdoc"] == ART["userdoc"]


def test_sources_given_as_urls_get_their_content(tmp_path: Path) -> None:
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "A.sol").write_text("contract A {}")
    std = {"sources": {"src/A.sol": {"urls": ["src/A.sol"]}, "B.sol": {"content": "contract B {}"}}}
    _fill_contents(std, [tmp_path])
    assert std["sources"]["src/A.sol"] == {"content": "contract A {}"}
    assert std["sources"]["B.sol"] == {"content": "contract B {}"}


def test_shim_script_is_executable_and_stable(tmp_path: Path) -> None:
    path = shim_path("0.8.26", cache=tmp_path)
    assert path.name == "solc-0.8.26" and path.stat().st_mode & 0o111
    text = path.read_text()
    assert "--solc-version 0.8.26" in text and str(tmp_path) in text
    mtime = path.stat().st_mtime_ns
    assert shim_path("0.8.26", cache=tmp_path) == path and path.stat().st_mtime_ns == mtime
