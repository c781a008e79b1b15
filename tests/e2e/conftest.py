"""Shared fixtures for tests against a real anvil, and the guard that none outlives the session."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from bulwark.toolchain.anvil import Anvil, AnvilOptions

_STARTED_PIDS: list[int] = []


def _alive(pid: int) -> bool:
    """True while ``pid`` exists and is not a zombie (a zombie has already stopped running)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


@pytest.fixture(scope="session", autouse=True)
def no_anvil_outlives_the_session() -> Iterator[list[int]]:
    """Record the PID of every anvil (and its watchdog) started in-process; all must be gone."""
    original = Anvil.start

    def recording_start(self: Anvil) -> Anvil:
        try:
            return original(self)
        finally:
            if self._proc is not None:
                _STARTED_PIDS.append(self._proc.pid)
            if self._watchdog is not None:
                _STARTED_PIDS.append(self._watchdog.pid)

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(Anvil, "start", recording_start)
        yield _STARTED_PIDS
    survivors = [pid for pid in _STARTED_PIDS if _alive(pid)]
    assert not survivors, f"anvil processes outlived the test session: {survivors}"


@pytest.fixture(scope="session")
def anvil_node() -> Iterator[Anvil]:
    """One automining anvil for the session; tests isolate themselves with evm_snapshot/revert."""
    with Anvil(AnvilOptions()) as node:
        yield node
