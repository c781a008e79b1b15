"""Patch benchmark: patch every case with ``bulwark.patch.generate`` (first compiled patch), replay the
case's exploit and its functional test on the patched contract, and print, per class and overall, how
many exploits were *stopped with behaviour kept* (the exploit no longer reaches its goal AND the
functional test still passes), next to the plain fix rate and the time from source to ranked patches.

Two corpora share one case shape (tests/support/patchcase.py):
  fixtures  tests/fixtures/patch   the suite's corpus (its diffs are golden files)
  bench     bench/patch_corpus     the public benchmark of issue 18 (bench only; the suite checks
                                   that each case's exploit and functional test work unpatched)

    .venv/bin/python bench/patch.py [--corpus all|fixtures|bench] [--cases SUBSTRING ...]
                                    [--workers N] [--json]

--json prints one object: {"cases", "stopped_kept", "stopped_kept_rate", "by_class", "by_category",
"fix_rate", "fix_rate_by_class", "seconds_median", "seconds_p90", "patched", "functional_broken",
"not_fixed", "no_patch"}.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from tests.support.patchcase import (  # noqa: E402
    BENCH_ROOT,
    CATEGORY,
    CORPUS_ROOT,
    Case,
    CaseRunner,
    PatchOutcome,
    anvil_options,
    evaluate_generated,
    fix_rates,
    generate_all,
    load_corpus,
)

from bulwark.chain import ChainClient  # noqa: E402
from bulwark.logs import configure  # noqa: E402
from bulwark.toolchain.anvil import Anvil  # noqa: E402
from bulwark.toolchain.solc import Compiler  # noqa: E402

CORPORA = {"fixtures": (CORPUS_ROOT,), "bench": (BENCH_ROOT,), "all": (CORPUS_ROOT, BENCH_ROOT)}


def percentile(values: list[float], q: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    k = (len(ordered) - 1) * q
    lo, hi = int(k), min(int(k) + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo)


def stopped_kept(outcome: PatchOutcome) -> bool:
    """The exploit fails on the patched contract and its intended behaviour still works."""
    return outcome.fixed and not outcome.broken


def select(corpus: str, filters: Sequence[str]) -> list[Case]:
    cases = [c for root in CORPORA[corpus] for c in load_corpus(root)]
    return [c for c in cases if not filters or any(f in c.name for f in filters)]


async def run(cases: Sequence[Case], workers: int, verbose: bool) -> list[PatchOutcome]:
    # the engine is CPU-bound (Slither holds the GIL): generate in worker processes, then replay on one anvil
    generated = generate_all(cases, workers=workers)
    out: list[PatchOutcome] = []
    with Anvil(anvil_options()) as node, Compiler() as compiler:
        async with ChainClient(node.http_url) as client:
            runner = CaseRunner(client, compiler, node.accounts)
            for case in cases:
                outcome = await evaluate_generated(case, generated[case.name], runner)
                out.append(outcome)
                if verbose:
                    state = "KEPT  " if stopped_kept(outcome) else ("BROKEN" if outcome.fixed else "open  ")
                    print(
                        f"{state} {outcome.seconds:6.2f}s {case.name} [{outcome.template}] {outcome.why()}",
                        file=sys.stderr,
                        flush=True,
                    )
    return out


def tally(outcomes: Sequence[PatchOutcome], key: dict[str, str] | None = None) -> dict[str, dict[str, Any]]:
    """{group: {"kept", "cases", "rate"}} grouped by class, or by ``key[class]``."""
    groups: dict[str, list[bool]] = {}
    for o in outcomes:
        group = key.get(o.vuln_class, o.vuln_class) if key is not None else o.vuln_class
        groups.setdefault(group, []).append(stopped_kept(o))
    return {
        g: {"kept": sum(v), "cases": len(v), "rate": round(sum(v) / len(v), 4)}
        for g, v in sorted(groups.items())
    }


def report(outcomes: Sequence[PatchOutcome]) -> dict[str, Any]:
    seconds = [o.seconds for o in outcomes]
    overall, by_class = fix_rates(outcomes)
    kept = sum(stopped_kept(o) for o in outcomes)
    return {
        "cases": len(outcomes),
        "stopped_kept": kept,
        "stopped_kept_rate": round(kept / len(outcomes), 4) if outcomes else 0.0,
        "by_class": tally(outcomes),
        "by_category": tally(outcomes, CATEGORY),
        "fix_rate": round(overall, 4),
        "fix_rate_by_class": {k: round(v, 4) for k, v in by_class.items()},
        "seconds_median": round(statistics.median(seconds), 3) if seconds else 0.0,
        "seconds_p90": round(percentile(seconds, 0.9), 3),
        "patched": sum(o.patched for o in outcomes),
        "functional_broken": sorted(o.case for o in outcomes if o.broken),
        "not_fixed": sorted(o.case for o in outcomes if o.patched and not o.fixed),
        "no_patch": sorted(o.case for o in outcomes if not o.patched),
    }


def table(title: str, rows: dict[str, dict[str, Any]]) -> list[str]:
    lines = [f"  {title:32s} {'kept':>9s} {'share':>6s}"]
    for group, row in rows.items():
        lines.append(f"  {group:32s} {row['kept']:>3d} of {row['cases']:<3d} {row['rate']:>6.0%}")
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--corpus", choices=sorted(CORPORA), default="all", help="which cases (default: all)")
    parser.add_argument("--cases", nargs="*", default=[], help="only cases whose name contains one of these")
    parser.add_argument("--workers", type=int, default=2, help="engine processes (default 2)")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args(argv)
    configure("warning")
    cases = select(args.corpus, args.cases)
    if not cases:
        print("bench/patch.py: no case matches; check --corpus and --cases", file=sys.stderr)
        return 2
    outcomes = asyncio.run(run(cases, max(1, args.workers), verbose=not args.json))
    rep = report(outcomes)
    if args.json:
        print(json.dumps(rep))
        return 0
    print(
        f"corpus {args.corpus}: {rep['cases']} cases  stopped with behaviour kept {rep['stopped_kept']} "
        f"({rep['stopped_kept_rate']:.1%})  fix rate {rep['fix_rate']:.1%}  patched {rep['patched']}  "
        f"broken {len(rep['functional_broken'])}  median {rep['seconds_median']} s  "
        f"p90 {rep['seconds_p90']} s"
    )
    print("\n".join(table("by category (issue 18)", rep["by_category"])))
    print("\n".join(table("by class", rep["by_class"])))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
