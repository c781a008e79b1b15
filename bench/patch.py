"""Patch benchmark on the corpus (tests/fixtures/patch): time from source to ranked, compiled
candidate patches per contract, and the fix rate (the first compiled patch makes the exploit fail)
overall and by class. Functional breakage is reported too.

    .venv/bin/python bench/patch.py [--json] [--cases SUBSTRING ...]

--json prints {"fix_rate", "fix_rate_by_class", "seconds_median", "seconds_p90", ...}.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from tests.support.patchcase import (  # noqa: E402
    CaseRunner,
    PatchOutcome,
    anvil_options,
    evaluate_patch,
    fix_rates,
    load_corpus,
)

from bulwark.chain import ChainClient  # noqa: E402
from bulwark.toolchain.anvil import Anvil  # noqa: E402
from bulwark.toolchain.solc import Compiler  # noqa: E402


def percentile(values: list[float], q: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    k = (len(ordered) - 1) * q
    lo, hi = int(k), min(int(k) + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo)


async def run(filters: list[str], verbose: bool) -> list[PatchOutcome]:
    cases = [c for c in load_corpus() if not filters or any(f in c.name for f in filters)]
    out: list[PatchOutcome] = []
    with Anvil(anvil_options()) as node, Compiler() as compiler:
        # warm the compilers so the timings measure the engine, not node start-up
        for version in sorted({c.solc for c in cases}):
            compiler.long_version(version)
        async with ChainClient(node.http_url) as client:
            runner = CaseRunner(client, compiler, node.accounts)
            for case in cases:
                outcome = await evaluate_patch(case, runner, compiler)
                out.append(outcome)
                if verbose:
                    state = "FIXED " if outcome.fixed else "open  "
                    state += "BROKEN " if outcome.broken else ""
                    print(
                        f"{state}{outcome.seconds:6.2f}s {case.name} [{outcome.template}] {outcome.why()}",
                        file=sys.stderr,
                        flush=True,
                    )
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--cases", nargs="*", default=[], help="only cases whose name contains one of these")
    args = parser.parse_args(argv)
    outcomes = asyncio.run(run(args.cases, verbose=not args.json))
    seconds = [o.seconds for o in outcomes]
    overall, by_class = fix_rates(outcomes)
    report = {
        "cases": len(outcomes),
        "fix_rate": round(overall, 4),
        "fix_rate_by_class": {k: round(v, 4) for k, v in by_class.items()},
        "seconds_median": round(statistics.median(seconds), 3) if seconds else 0.0,
        "seconds_p90": round(percentile(seconds, 0.9), 3),
        "patched": sum(o.patched for o in outcomes),
        "functional_broken": sorted(o.case for o in outcomes if o.broken),
        "not_fixed": sorted(o.case for o in outcomes if not o.fixed),
    }
    if args.json:
        print(json.dumps(report))
    else:
        print(
            f"cases {report['cases']}  fix rate {overall:.1%}  median {report['seconds_median']} s  "
            f"p90 {report['seconds_p90']} s  broken {len(report['functional_broken'])}"
        )
        for cls, rate in report["fix_rate_by_class"].items():
            print(f"  {cls:28s} {rate:.0%}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
