"""Compile timings per bundled solc version: cold (new node process) and warm (same process).

``measure_compile()`` is imported by bench/toolchain.py; run this file alone for a table:

    .venv/bin/python bench/toolchain_compile.py
"""

from __future__ import annotations

import json
import subprocess
import tempfile
import time
from pathlib import Path

from bulwark.toolchain.paths import project_root
from bulwark.toolchain.shim import shim_path
from bulwark.toolchain.solc import Compiler
from bulwark.toolchain.versions import bundled_solc, newest_bundled

FIXTURES = project_root() / "tests" / "fixtures" / "solidity"
SMALL = FIXTURES / "Counter.sol"  # compiles unchanged on every bundled release
UUPS = FIXTURES / "VaultUUPS.sol"  # OpenZeppelin v5 UUPS: 14 sources


def _timed_compile(compiler: Compiler, path: Path, version: str) -> float:
    start = time.perf_counter()
    compiler.compile_files([path], version=version)
    return time.perf_counter() - start


def measure_compile() -> tuple[dict[str, float], dict[str, float]]:
    """(cold, warm) seconds per version; ``<newest> OZ-UUPS`` is the OpenZeppelin UUPS contract.

    Cold includes starting node and loading soljson.js; warm reuses the process. The disk cache
    is off, so both are real compilations (optimizer on, 200 runs, all outputs).
    """
    cold: dict[str, float] = {}
    warm: dict[str, float] = {}
    jobs = [(v, SMALL, v) for v in bundled_solc()]
    jobs.append((f"{newest_bundled()} OZ-UUPS", UUPS, newest_bundled()))
    with tempfile.TemporaryDirectory(prefix="bulwark-bench-") as tmp:
        for label, path, version in jobs:
            with Compiler(root=project_root(), cache=Path(tmp), use_cache=False) as compiler:
                cold[label] = _timed_compile(compiler, path, version)
                warm[label] = min(_timed_compile(compiler, path, version) for _ in range(2))
    return cold, warm


def measure_shim(version: str | None = None) -> dict[str, float]:
    """Seconds for the shim's ``--version`` and a ``--standard-json`` compile, cold and disk-cached."""
    version = version or newest_bundled()
    source = SMALL.read_text()
    std = {
        "language": "Solidity",
        "sources": {"Counter.sol": {"content": source}},
        "settings": {"outputSelection": {"*": {"*": ["abi", "evm.bytecode.object"]}}},
    }
    out: dict[str, float] = {}
    with tempfile.TemporaryDirectory(prefix="bulwark-bench-") as tmp:
        shim = str(shim_path(version, cache=Path(tmp)))
        for label in ("--version (first)", "--version (remembered)"):
            start = time.perf_counter()
            subprocess.run([shim, "--version"], capture_output=True, check=True)
            out[label] = time.perf_counter() - start
        for label in ("--standard-json (cold)", "--standard-json (disk cache)"):
            start = time.perf_counter()
            proc = subprocess.run(
                [shim, "--standard-json"], input=json.dumps(std), capture_output=True, text=True, check=True
            )
            out[label] = time.perf_counter() - start
            assert json.loads(proc.stdout)["contracts"]
        with Compiler(cache=Path(tmp), use_cache=False) as compiler:
            compiler.compile_standard_json(std, version)
            start = time.perf_counter()
            compiler.compile_standard_json(std, version)
            out["in-process warm (reference)"] = time.perf_counter() - start
    return out


def main() -> None:
    cold, warm = measure_compile()
    print(f"{'solc':<20} {'cold s':>8} {'warm s':>8}")
    for label in cold:
        print(f"{label:<20} {cold[label]:>8.2f} {warm[label]:>8.2f}")
    print()
    for label, secs in measure_shim().items():
        print(f"shim {label:<30} {secs:>6.2f} s")


if __name__ == "__main__":
    main()
