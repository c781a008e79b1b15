"""Cost of the applied patch on corpus cases (tests/fixtures/patch): runtime size and gas overhead.

    .venv/bin/python bench/patch_cost.py [--cases SUBSTRING ...] [--json]

Per case: the template applied, runtime bytecode size before -> after (solc, optimizer on, 200 runs,
as the patch stage measures it) and the gas of each patched function before -> after, measured the way
``bulwark patch`` reports it (the deployer calls the function with zero arguments in pyrevm).
Functions whose call reverts or that take dynamic arguments are listed as not measured.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from tests.support.patchcase import load_corpus  # noqa: E402

from bulwark.patch.engine import PatchRequest, analyse, candidates  # noqa: E402
from bulwark.toolchain.solc import Compiler  # noqa: E402


def measure(filters: list[str]) -> list[dict[str, Any]]:
    cases = [c for c in load_corpus() if not filters or any(f in c.name for f in filters)]
    rows: list[dict[str, Any]] = []
    with Compiler() as compiler:
        for case in cases:
            request = PatchRequest(sources=case.victim_sources, solc_version=case.solc)
            analysis = analyse(request, compiler)
            generation = candidates(analysis, compiler, max_patches=1)
            row: dict[str, Any] = {"case": case.name, "solc": case.solc}
            if not generation.patches or generation.cost is None:
                row["template"] = None
            else:
                row["template"] = generation.patches[0].template
                row.update(generation.cost.to_json())
            rows.append(row)
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", nargs="*", default=[], help="only cases whose name contains one of these")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args(argv)
    rows = measure(args.cases)
    if args.json:
        print(json.dumps(rows))
        return 0
    for r in rows:
        if r["template"] is None:
            print(f"{r['case']:<34} no patch")
            continue
        size = r["size_overhead_pct"]
        gas = ", ".join(f"{g['function']} {g['overhead_pct']:+.2f}%" for g in r["gas"]) or "-"
        print(
            f"{r['case']:<34} {r['template']:<40} size "
            + (f"{r['size_before']}->{r['size_after']} ({size:+.2f}%)" if size is not None else "n/a")
            + f"  gas {gas}"
            + (f"  [not measured: {'; '.join(r['gas_skipped'])}]" if r["gas_skipped"] else "")
            + ("" if r["gas"] or r["gas_skipped"] else f"  [{r['gas_source']}]")
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
