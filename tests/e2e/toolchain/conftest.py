"""Session fixtures for the compiler, shim, forge and Slither tests: one warm compiler, one cache."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from bulwark.toolchain.paths import project_root
from bulwark.toolchain.solc import Compiler

SOLIDITY = Path(__file__).resolve().parents[2] / "fixtures" / "solidity"


def process_alive(pid: int) -> bool:
    """True while ``pid`` runs (a zombie has already stopped)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


@pytest.fixture(scope="session")
def solidity_fixtures() -> Path:
    return SOLIDITY


@pytest.fixture(scope="session")
def solc_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A private Bulwark cache (compiler outputs, shims, fetched releases) for the session."""
    return tmp_path_factory.mktemp("bulwark-cache")


@pytest.fixture(scope="session")
def compiler(solc_cache: Path) -> Iterator[Compiler]:
    """One compiler for the session: its node processes stay warm between tests."""
    with Compiler(root=project_root(), cache=solc_cache) as c:
        yield c
    assert not c.pids
