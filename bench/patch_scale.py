"""Scale benchmark for ``bulwark patch``: a generated contract of N functions, timed end to end.

    .venv/bin/python bench/patch_scale.py --functions 1000,5000 [--no-slither] [--profile OUT.prof]

Writes a contract with N simple owner-guarded functions and a few real flaws (one unprotected
setter of a variable the owner's functions write, one withdrawal that re-enters every
``FLAW_EVERY`` functions), runs ``bulwark patch FILE --json`` on it as a user would and prints one
line per size: functions, seconds, status, findings, the first patch. ``--profile`` runs the
engine in-process under cProfile instead (for finding what grows faster than N).
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

FLAW_EVERY = 1000  # one flawed function among this many
PRAGMA = "0.8.26"


def contract_source(n: int, *, flaws: bool = True, nonce: str = "") -> str:
    """A contract with ``n`` functions (owner-guarded setters, a few reads), some of them flawed.
    ``nonce`` goes into a comment: a fresh one keeps solc's disk cache from answering."""
    lines = [
        "// SPDX-License-Identifier: MIT",
        f"// run {nonce}",
        f"pragma solidity {PRAGMA};",
        "",
        "contract Scale {",
        "    address public owner;",
        "    uint256 public fee;",
        "    mapping(uint256 => uint256) public values;",
        "    mapping(address => uint256) public balances;",
        "",
        "    constructor() {",
        "        owner = msg.sender;",
        "    }",
        "",
        "    modifier onlyOwner() {",
        '        require(msg.sender == owner, "not owner");',
        "        _;",
        "    }",
        "",
        "    function _bump(uint256 k, uint256 v) internal {",
        "        values[k] = v;",
        "    }",
        "",
        "    function setFee(uint256 f) external onlyOwner {",
        "        fee = f;",
        "    }",
        "",
        "    function deposit() external payable {",
        "        balances[msg.sender] += msg.value;",
        "    }",
    ]
    for i in range(n):
        if flaws and i % FLAW_EVERY == FLAW_EVERY // 2:
            if (i // FLAW_EVERY) % 2 == 0:  # an unprotected setter of an owner-written variable
                lines += [
                    "",
                    f"    function setFeeFast{i}(uint256 f) external {{",
                    "        fee = f;",
                    "    }",
                ]
            else:  # a withdrawal that pays before it books
                lines += [
                    "",
                    f"    function withdraw{i}() external {{",
                    "        uint256 amount = balances[msg.sender];",
                    '        (bool ok, ) = msg.sender.call{value: amount}("");',
                    '        require(ok, "send failed");',
                    "        balances[msg.sender] = 0;",
                    "    }",
                ]
            continue
        if i % 3 == 2:
            lines += [
                "",
                f"    function get{i}() external view returns (uint256) {{",
                f"        return values[{i}] + fee;",
                "    }",
            ]
        else:
            lines += [
                "",
                f"    function set{i}(uint256 v) external onlyOwner {{",
                f"        _bump({i}, v);",
                "    }",
            ]
    lines.append("}")
    return "\n".join(lines) + "\n"


def run_cli(path: Path, *, slither: bool) -> tuple[float, float, dict[str, object], int]:
    """Wall seconds, CPU seconds (the CLI and the solc node process it starts: on a shared machine
    the wall time mostly measures the neighbours), the JSON report and the exit code."""
    args = [sys.executable, "-m", "bulwark.cli.main", "patch", str(path), "--json"]
    if not slither:
        args.append("--no-slither")
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    proc = subprocess.run(args, capture_output=True, text=True, check=False, cwd=path.parent)
    seconds = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    try:
        data = json.loads(proc.stdout)
    except ValueError:
        data = {"status": "error", "stderr": proc.stderr.strip()[-300:]}
    return seconds, cpu, data, proc.returncode


def profile(path: Path, out: str, *, slither: bool) -> None:
    import cProfile
    import pstats

    from bulwark.patch.engine import PatchRequest, analyse, patches_for
    from bulwark.toolchain.solc import Compiler

    with Compiler(root=path.parent) as compiler:
        compiler.long_version(PRAGMA)  # node start-up is not what we profile
        prof = cProfile.Profile()
        prof.enable()
        analysis = analyse(PatchRequest(paths=[path], use_slither=slither), compiler)
        patches_for(analysis, compiler)
        prof.disable()
    prof.dump_stats(out)
    pstats.Stats(out).sort_stats("cumulative").print_stats(25)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--functions", default="1000,5000", help="comma-separated sizes")
    parser.add_argument("--no-slither", action="store_true", help="only Bulwark's own checks")
    parser.add_argument("--profile", metavar="OUT", help="profile the engine in-process (cProfile)")
    parser.add_argument("--keep", metavar="DIR", help="write the generated contracts here")
    args = parser.parse_args(argv)
    sizes = [int(s) for s in args.functions.split(",") if s.strip()]
    with tempfile.TemporaryDirectory(prefix="bulwark-scale-") as tmp:
        folder = Path(args.keep) if args.keep else Path(tmp)
        folder.mkdir(parents=True, exist_ok=True)
        for n in sizes:
            path = folder / f"Scale{n}.sol"
            path.write_text(contract_source(n, nonce=uuid.uuid4().hex))  # timed cold, never cached
            if args.profile:
                profile(path, args.profile, slither=not args.no_slither)
                continue
            seconds, cpu, data, code = run_cli(path, slither=not args.no_slither)
            patches = data.get("patches") or []
            first = patches[0] if isinstance(patches, list) and patches else {}
            findings = data.get("findings")
            print(
                f"functions={n:<6} seconds={seconds:7.2f} cpu={cpu:7.2f} exit={code} "
                f"status={data.get('status')} "
                f"findings={len(findings) if isinstance(findings, list) else '-'} "
                f"first_patch={first.get('template')}:{first.get('function')}"
                + (f" error={data['stderr']}" if "stderr" in data else ""),
                flush=True,
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
