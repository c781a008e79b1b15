"""A compile that never answers is stopped after the timeout with a one-line error, and the
compiler starts a fresh process for the next one (solcjs has no limit of its own)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from bulwark.errors import ToolchainError
from bulwark.toolchain import solc
from bulwark.toolchain.solc import CompileTimeout, default_timeout_s

# Answers the version question, then reads compile requests and never answers them.
_HUNG = """
const readline = require("readline");
const rl = readline.createInterface({ input: process.stdin });
rl.on("line", (line) => {
  const req = JSON.parse(line);
  if (req.op === "version") {
    process.stdout.write(JSON.stringify({ id: req.id, version: "0.8.26+hung" }) + "\\n");
  }
});
"""

pytestmark = pytest.mark.skipif(shutil.which("node") is None, reason="node is installed by make setup")


def test_a_hung_compile_is_stopped_with_a_clear_error(tmp_path: Path) -> None:
    server = tmp_path / "hung.js"
    server.write_text(_HUNG)
    # a generous limit for node's start-up (a loaded machine), then a short one for the compile
    proc = solc._SolcProcess("0.8.26", tmp_path, timeout_s=60, server=server)
    proc.timeout_s = 0.5
    try:
        assert proc.long_version == "0.8.26+hung"  # answered requests are unaffected
        with pytest.raises(CompileTimeout) as err:
            proc.request({"op": "compile", "input": "{}", "roots": []})
        message = err.value.user_message
        assert "did not answer within 0.5 s" in message and solc.TIMEOUT_ENV in message
        assert "\n" not in message
        assert proc.proc.poll() is not None  # the stuck process is gone, not left running
        with pytest.raises(ToolchainError, match="has exited"):
            proc.request({"op": "version"})
    finally:
        proc.close()


def test_the_compiler_replaces_a_process_stopped_by_the_timeout(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    server = tmp_path / "hung.js"
    server.write_text(_HUNG)
    started: list[solc._SolcProcess] = []

    class Hung(solc._SolcProcess):
        def __init__(
            self, version: str, package_dir: Path, *, timeout_s: float, server: Path = server
        ) -> None:
            # counted before the start-up handshake, which the short limit may also cut off
            started.append(self)
            super().__init__(version, package_dir, timeout_s=timeout_s, server=server)

    monkeypatch.setattr(solc, "_SolcProcess", Hung)
    monkeypatch.setattr(
        solc, "ensure_package", lambda version, cache=None: type("P", (), {"package_dir": tmp_path})()
    )
    compiler = solc.Compiler(root=tmp_path, use_cache=False, timeout_s=0.3)
    try:
        for _ in range(2):
            with pytest.raises(CompileTimeout):
                compiler.compile_standard_json({"language": "Solidity", "sources": {}}, "0.8.26")
        assert len(started) == 2 and started[0].proc.poll() is not None
    finally:
        compiler.close()


@pytest.mark.parametrize(("raw", "expected"), [("", solc.DEFAULT_TIMEOUT_S), ("90", 90.0), (" 2.5 ", 2.5)])
def test_the_timeout_comes_from_the_environment(
    monkeypatch: pytest.MonkeyPatch, raw: str, expected: float
) -> None:
    monkeypatch.setenv(solc.TIMEOUT_ENV, raw)
    assert default_timeout_s() == expected


@pytest.mark.parametrize("raw", ["soon", "0", "-1"])
def test_a_bad_timeout_setting_names_the_variable(monkeypatch: pytest.MonkeyPatch, raw: str) -> None:
    monkeypatch.setenv(solc.TIMEOUT_ENV, raw)
    with pytest.raises(ToolchainError, match=solc.TIMEOUT_ENV):
        default_timeout_s()
