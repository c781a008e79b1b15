"""Releases that are not bundled come from the npm registry on first use, once."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from bulwark.errors import CompilerUnavailable
from bulwark.toolchain.solc import Compiler
from bulwark.toolchain.solc_install import ensure_package, installed_package
from bulwark.toolchain.versions import bundled_solc

pytestmark = pytest.mark.e2e

PINNED_050 = (
    "pragma solidity 0.5.0;\ncontract Old { uint256 public x; function set(uint256 v) public { x = v; } }\n"
)


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])  # nothing listens once the socket is closed


def test_unreachable_registry_gives_compiler_unavailable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("npm_config_registry", f"http://127.0.0.1:{_closed_port()}/")
    monkeypatch.setenv("npm_config_cache", str(tmp_path / "npm-cache"))  # no stale copy to fall back on
    assert "0.4.12" not in bundled_solc()
    with Compiler(cache=tmp_path) as c, pytest.raises(CompilerUnavailable) as info:
        c.compile_sources({"A.sol": "pragma solidity 0.4.12;\ncontract A {}\n"})
    msg = info.value.user_message
    assert msg.startswith("solc 0.4.12 is not bundled and could not be fetched from the npm registry: ")
    assert "check network or install it with `npm install --prefix" in msg
    assert "\n" not in msg
    assert installed_package("0.4.12", cache=tmp_path) is None


def test_too_old_release_is_refused_without_network(tmp_path: Path) -> None:
    with pytest.raises(CompilerUnavailable, match=r"0\.4\.11 and newer"):
        ensure_package("0.4.10", cache=tmp_path)


@pytest.fixture(scope="session")
def install_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("solcjs-install")


@pytest.mark.slow
def test_on_demand_install_of_050_is_idempotent(install_cache: Path) -> None:
    assert "0.5.0" not in bundled_solc()
    with Compiler(cache=install_cache) as c:
        res = c.compile_sources({"Old.sol": PINNED_050})
        assert res.version == "0.5.0"
        assert res.long_version.startswith("0.5.0+commit.")
        assert res.contract("Old").method_identifiers["set(uint256)"]
    marker = install_cache / "solcjs" / "0.5.0" / ".bulwark-installed"
    stamp = marker.stat().st_mtime_ns
    again = ensure_package("0.5.0", cache=install_cache)
    assert not again.fetched and not again.bundled
    assert marker.stat().st_mtime_ns == stamp
    with Compiler(cache=install_cache, use_cache=False) as c:
        assert c.compile_sources({"Old.sol": PINNED_050}).version == "0.5.0"
    assert marker.stat().st_mtime_ns == stamp
