"""solcjs through long-lived node processes: versions, OpenZeppelin remappings, errors, cache, cleanup."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from eth_utils import keccak

from bulwark.errors import CompileError
from bulwark.toolchain.solc import Compiler

from .conftest import process_alive

pytestmark = pytest.mark.e2e


def test_same_contract_with_0424_and_newest_08(compiler: Compiler, solidity_fixtures: Path) -> None:
    path = solidity_fixtures / "Counter.sol"
    old = compiler.compile_files([path], version="0.4.24")
    new = compiler.compile_files([path], version="0.8.37")
    assert old.long_version.startswith("0.4.24+commit.")
    assert new.long_version.startswith("0.8.37+commit.")
    a, b = old.contract("Counter"), new.contract("Counter")
    assert a.source_path == b.source_path == "tests/fixtures/solidity/Counter.sol"
    selector = keccak(text="bump(uint256)")[:4].hex()
    assert a.method_identifiers["bump(uint256)"] == b.method_identifiers["bump(uint256)"] == selector
    assert a.deployed_bytecode and b.deployed_bytecode and a.deployed_bytecode != b.deployed_bytecode
    assert len(a.bytecode) > len(a.deployed_bytecode)
    assert a.storage_layout is None  # storage layout output starts at 0.5.13
    assert b.storage_layout is not None
    assert [(v.label, v.slot) for v in b.storage_layout.variables] == [
        ("count", 0),
        ("owner", 1),
        ("perUser", 2),
    ]
    assert old.settings["optimizer"] == {"enabled": True, "runs": 200}
    assert old.sources[a.source_path].ast["nodeType"] == "SourceUnit"


def test_openzeppelin_uups_through_remappings(compiler: Compiler, solidity_fixtures: Path) -> None:
    res = compiler.compile_files([solidity_fixtures / "VaultUUPS.sol"])
    assert res.version == "0.8.37"  # newest bundled release satisfying ^0.8.20
    vault = res.contract("VaultUUPS")
    assert "upgradeToAndCall(address,bytes)" in vault.method_identifiers
    assert "proxiableUUID()" in vault.method_identifiers
    assert vault.immutable_references  # UUPSUpgradeable's __self
    uups = "node_modules/@openzeppelin/contracts-upgradeable/proxy/utils/UUPSUpgradeable.sol"
    assert uups in res.sources and "abstract contract UUPSUpgradeable" in (res.sources[uups].content or "")
    assert res.standard_json_input["sources"][uups]["content"] == res.sources[uups].content
    assert "@openzeppelin/contracts/=node_modules/@openzeppelin/contracts/" in res.settings["remappings"]


def test_uups_storage_layout_read_back(compiler: Compiler, solidity_fixtures: Path) -> None:
    vault = compiler.compile_files([solidity_fixtures / "VaultUUPS.sol"]).contract("VaultUUPS")
    layout = vault.storage_layout
    assert layout is not None
    got = {v.label: (v.slot, v.offset, layout.type_of(v).label) for v in layout.variables}
    assert got == {
        "asset": (0, 0, "contract IERC20"),
        "totalShares": (1, 0, "uint128"),
        "lastUpdate": (1, 16, "uint64"),
        "shares": (2, 0, "mapping(address => uint256)"),
        "depositors": (3, 0, "address[]"),
    }


def test_version_from_pragma(compiler: Compiler) -> None:
    assert compiler.version_for("pragma solidity ^0.8.20;") == "0.8.37"
    assert compiler.version_for("pragma solidity >=0.4.22 <0.6.0;") == "0.5.17"
    assert compiler.version_for("pragma solidity ^0.4.24;") == "0.4.26"
    assert compiler.version_for("pragma solidity 0.5.0;") == "0.5.0"


def test_syntax_error_carries_solcs_message(compiler: Compiler) -> None:
    src = "pragma solidity ^0.8.0;\ncontract Broken {\n    uint x\n}\n"
    with pytest.raises(CompileError) as info:
        compiler.compile_sources({"Broken.sol": src})
    msg = info.value.user_message
    assert "\n" not in msg
    assert "Broken.sol:4:1" in msg and "ParserError" in msg and "Expected ';'" in msg
    assert info.value.errors and "ParserError" in info.value.errors[0]


def test_syntax_error_in_0424(compiler: Compiler) -> None:
    with pytest.raises(CompileError, match=r"Old\.sol:2:.*ParserError"):
        compiler.compile_sources({"Old.sol": "pragma solidity 0.4.24;\ncontract A { function f( }\n"})


def test_missing_import_names_the_file(compiler: Compiler) -> None:
    src = 'pragma solidity ^0.8.0;\nimport "./lib/DoesNotExist.sol";\ncontract A {}\n'
    with pytest.raises(CompileError, match=r"lib/DoesNotExist\.sol"):
        compiler.compile_sources({"A.sol": src})


def test_unknown_contract_lists_what_exists(compiler: Compiler, solidity_fixtures: Path) -> None:
    res = compiler.compile_files([solidity_fixtures / "Counter.sol"])
    with pytest.raises(CompileError, match=r"available: tests/fixtures/solidity/Counter\.sol:Counter"):
        res.contract("Vault")


def test_cache_hit_and_invalidation_when_an_import_changes(tmp_path: Path, solc_cache: Path) -> None:
    (tmp_path / "Lib.sol").write_text(
        "pragma solidity ^0.8.0;\nlibrary L { function one() internal pure returns (uint) { return 1; } }\n"
    )
    (tmp_path / "Main.sol").write_text(
        'pragma solidity ^0.8.0;\nimport "./Lib.sol";\n'
        "contract M { function f() external pure returns (uint) { return L.one(); } }\n"
    )
    with Compiler(root=tmp_path, cache=solc_cache) as c:
        first = c.compile_files([Path("Main.sol")])
        again = c.compile_files([Path("Main.sol")])
        assert not first.cached and again.cached
        assert again.contract("M").deployed_bytecode == first.contract("M").deployed_bytecode
        assert again.sources["Lib.sol"].content == first.sources["Lib.sol"].content
        (tmp_path / "Lib.sol").write_text(
            "pragma solidity ^0.8.0;\n"
            "library L { function one() internal pure returns (uint) { return 2; } }\n"
        )
        changed = c.compile_files([Path("Main.sol")])
        assert not changed.cached
        assert changed.contract("M").deployed_bytecode != first.contract("M").deployed_bytecode
    cached_files = list((solc_cache / "solc-output").rglob("*.json"))
    assert len(cached_files) >= 2


def test_no_node_process_outlives_close(solc_cache: Path) -> None:
    c = Compiler(cache=solc_cache)
    c.compile_sources({"A.sol": "pragma solidity ^0.4.24;\ncontract A {}\n"}, version="0.4.24")
    c.compile_sources({"B.sol": "pragma solidity ^0.8.0;\ncontract B {}\n"}, version="0.8.37")
    pids = c.pids
    assert set(pids) == {"0.4.24", "0.8.37"}
    assert all(process_alive(p) for p in pids.values())
    c.close()
    assert c.pids == {}
    assert not any(process_alive(p) for p in pids.values())


_CHILD = """
import sys
from bulwark.toolchain.solc import Compiler
c = Compiler(cache=__import__("pathlib").Path(sys.argv[1]), use_cache=False)
c.compile_sources({"A.sol": "pragma solidity ^0.8.0; contract A {}"}, version="0.8.37")
print(c.pids["0.8.37"], flush=True)
if sys.argv[2] == "hang":
    import time; time.sleep(60)
"""


def _wait_gone(pid: int, timeout: float = 10) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not process_alive(pid):
            return True
        time.sleep(0.05)
    return False


@pytest.mark.parametrize("how", ["exit", "sigkill"])
def test_node_process_ends_with_its_python_process(solc_cache: Path, how: str) -> None:
    """atexit closes a compiler nobody closed; a killed Python leaves node at end of input, so it exits."""
    child = subprocess.Popen(
        [sys.executable, "-c", _CHILD, str(solc_cache), "hang" if how == "sigkill" else "exit"],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert child.stdout is not None
    node_pid = int(child.stdout.readline())
    if how == "sigkill":
        assert process_alive(node_pid)
        os.kill(child.pid, signal.SIGKILL)
    child.wait(timeout=30)
    child.stdout.close()
    assert _wait_gone(node_pid), f"node {node_pid} outlived its Python process ({how})"
