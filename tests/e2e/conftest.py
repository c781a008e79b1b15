"""Shared fixtures for tests against a real anvil, and the guard that none outlives the session."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from bulwark.toolchain.anvil import Anvil, AnvilOptions

_STARTED_PIDS: list[tuple[int, str]] = []  # (pid, start time): a reused pid is another process


def _start_time(pid: int) -> str | None:
    """The kernel's start time of ``pid`` (field 22 of /proc/PID/stat), or None once it is gone."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return None
    fields = stat.rsplit(")", 1)[1].split()
    return None if fields[0] == "Z" else fields[19]  # a zombie has already stopped running


def _alive(pid: int, started: str) -> bool:
    """True while the very process we started still runs (not a later process given its pid)."""
    return _start_time(pid) == started


@pytest.fixture(scope="session", autouse=True)
def no_anvil_outlives_the_session() -> Iterator[list[tuple[int, str]]]:
    """Record the PID of every anvil (and its watchdog) started in-process; all must be gone."""
    original = Anvil.start

    def recording_start(self: Anvil) -> Anvil:
        try:
            return original(self)
        finally:
            for proc in (self._proc, self._watchdog):
                if proc is not None:
                    _STARTED_PIDS.append((proc.pid, _start_time(proc.pid) or ""))

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(Anvil, "start", recording_start)
        yield _STARTED_PIDS
    survivors = [pid for pid, started in _STARTED_PIDS if started and _alive(pid, started)]
    assert not survivors, f"anvil processes outlived the test session: {survivors}"


@pytest.fixture(scope="session")
def anvil_node() -> Iterator[Anvil]:
    """One automining anvil for the session; tests isolate themselves with evm_snapshot/revert."""
    with Anvil(AnvilOptions()) as node:
        yield node
