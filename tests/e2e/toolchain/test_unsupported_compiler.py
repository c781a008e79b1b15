"""A source that needs a solc older than Bulwark supports fails with one line naming the range."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

BULWARK = Path(sys.executable).with_name("bulwark")
# The compile path every other command shares (verify, scenarios): one resolver.
COMPILE = """
import sys
from bulwark.errors import BulwarkError
from bulwark.toolchain.solc import Compiler
try:
    Compiler().version_for(open(sys.argv[1]).read())
except BulwarkError as e:
    print("error: " + e.user_message, file=sys.stderr)
    sys.exit(2)
"""


@pytest.mark.e2e
@pytest.mark.parametrize("command", ["patch", "compile"])
def test_pragma_below_0_4_11_is_refused_with_the_supported_range(tmp_path: Path, command: str) -> None:
    src = tmp_path / "Old.sol"
    src.write_text("pragma solidity ^0.3.0;\ncontract Old { function f() {} }\n")
    if command == "patch":
        argv = [str(BULWARK), "patch", str(src), "--no-slither"]
    else:
        argv = [sys.executable, "-c", COMPILE, str(src)]
    env = {**os.environ, "BULWARK_CACHE": str(tmp_path / "cache")}
    proc = subprocess.run(
        argv, capture_output=True, text=True, timeout=120, cwd=tmp_path, env=env, check=False
    )
    assert proc.returncode != 0
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert "^0.3.0" in lines[0] and "supports solc 0.4.11 and newer" in lines[0]
