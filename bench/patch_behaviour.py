"""How well the behaviour check and the synthesised attacks see the corpus (tests/fixtures/patch and
bench/patch_corpus): per case, the engine's first patch, whether it kept behaviour, whether the
attack synthesised from its finding works on the original (the original taken as its own candidate
must come out "not-blocked") and whether the patch blocks it. Prints a per-class table.

    .venv/bin/python bench/patch_behaviour.py [--json] [--cases SUBSTRING ...]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from tests.support.patchcase import BENCH_ROOT, CORPUS_ROOT, load_corpus  # noqa: E402

from bulwark.domain.patch import Patch  # noqa: E402
from bulwark.patch import engine, ranking  # noqa: E402
from bulwark.patch.behaviour import Checker  # noqa: E402
from bulwark.patch.evm import PROBE_SOLC, PROBE_SOURCE, Unusable  # noqa: E402
from bulwark.toolchain.solc import Compiler  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--cases", nargs="*", default=[])
    args = parser.parse_args(argv)
    rows: list[dict[str, object]] = []
    with Compiler() as compiler:
        probe_build = compiler.compile_sources(
            {"Probe.sol": PROBE_SOURCE}, version=PROBE_SOLC, optimize=False, outputs="minimal"
        )
        probe = next(c.bytecode for c in probe_build.contracts if c.name == "BulwarkProbe")
        for case in [c for root in (CORPUS_ROOT, BENCH_ROOT) for c in load_corpus(root)]:
            if args.cases and not any(f in case.name for f in args.cases):
                continue
            started = time.perf_counter()
            # as bench/patch.py asks: the victim's sources, its contract, Slither on
            request = engine.PatchRequest(sources=case.victim_sources, contract=case.contract)
            try:
                analysis = engine.analyse(request, compiler)
                patches = engine.candidates(analysis, compiler).patches
            except Exception as exc:  # a benchmark reports and moves on
                rows.append({"case": case.name, "class": case.vuln_class, "error": str(exc)[:80]})
                continue
            seconds = time.perf_counter() - started
            row: dict[str, object] = {
                "case": case.name,
                "class": case.vuln_class,
                "seconds": round(seconds, 2),
            }
            if patches:
                best = patches[0]
                row["template"] = best.template
                row["kept"] = best.behaviour.kept if best.behaviour else None
                row["attack"] = best.attack.outcome if best.attack else None
                row["shape"] = best.attack.shape if best.attack else None
                row["on_original"] = _on_original(analysis, compiler, best, probe)
            rows.append(row)
            if not args.json:
                print(json.dumps(row), file=sys.stderr, flush=True)
    by_class: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for r in rows:
        c = by_class[str(r["class"])]
        c["cases"] += 1
        c["patched"] += "template" in r
        c["kept"] += r.get("kept") is True
        c["viable"] += r.get("on_original") == "not-blocked"
        c["blocked"] += r.get("attack") == "blocked"
    if args.json:
        print(json.dumps({"cases": rows, "by_class": by_class}))
        return 0
    print(f"{'class':<26}{'cases':>6}{'patched':>8}{'kept':>6}{'attack works on original':>26}{'blocked':>9}")
    for name, c in sorted(by_class.items()):
        print(f"{name:<26}{c['cases']:>6}{c['patched']:>8}{c['kept']:>6}{c['viable']:>26}{c['blocked']:>9}")
    return 0


def _on_original(analysis: engine.Analysis, compiler: Compiler, best: Patch, probe: bytes) -> str:
    """The synthesised attack against the original itself: "not-blocked" when it works there."""
    original = compiler.compile_sources(
        analysis.sources, version=analysis.result.version, optimize=False, outputs="minimal"
    )
    key = (ranking.unit_of(best), best.contract)
    art = next((c for c in original.contracts if (c.source_path, c.name) == key), None)
    if art is None:
        return "no artifact"
    try:
        checker = Checker(art, probe, None)
    except Unusable as exc:
        return f"unusable: {exc}"
    flaw = {n for n in (best.function, *(f.function for f in best.findings)) if n}
    return checker.attack(art, flaw, best.vuln_class, ranking.edited_functions(analysis, best)).outcome


if __name__ == "__main__":
    raise SystemExit(main())
