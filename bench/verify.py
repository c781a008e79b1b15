"""Verification benchmark: wall time of a full verification of each scenario's reference fix.

    .venv/bin/python bench/verify.py [--json] [--regress 500] [--scenario NAME ...]

Per scenario: the scenario is played on a fresh anvil (deploy, set-up, ``--regress`` + a few
benign transactions, attack; not timed), then ``verify()`` runs against it and is timed: layout
and safety checks, the attack replay on a fork, the last ``--regress`` benign transactions that
touched the protocol replayed on two forks, and the declared invariants under a short fuzz. The
breakdown is ``VerifyTimings`` (chain reads, compile, static checks, selection, forks — the
attack and regression forks run concurrently — cost, evidence).

``--json`` prints ``{"seconds_by_scenario": {...}, "seconds_max": ..., "breakdown": {...},
"verdicts": {...}}``. Target: under 60 s per scenario. Not part of the test run.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.e2e.verify.live import LiveRun, live_scenario  # noqa: E402

from bulwark.chain import run  # noqa: E402
from bulwark.domain.verify import Invariant, ViewCall  # noqa: E402
from bulwark.logs import configure  # noqa: E402
from bulwark.scenarios.corpus import load_corpus  # noqa: E402
from bulwark.toolchain.solc import Compiler  # noqa: E402
from bulwark.verify.engine import VerifyRequest, verify_with_timings  # noqa: E402


def protocol_invariants(live: LiveRun) -> tuple[Invariant, ...]:
    """Solvency invariants of the demo protocol, as a bulwark.yaml would declare them."""
    p = live.world.protocol
    usd, weth = p.token("usd").address, p.token("weth").address
    vault, flash, pool = p.address("vault"), p.address("flash"), p.address("pool")
    return (
        Invariant(
            "vault-holds-its-assets",
            ViewCall(usd, "balanceOf(address)(uint256)", (vault,)),
            ">=",
            ViewCall(vault, "totalAssets()(uint256)"),
        ),
        Invariant(
            "flash-usd-liquidity-held",
            ViewCall(usd, "balanceOf(address)(uint256)", (flash,)),
            ">=",
            ViewCall(flash, "liquidity(address)(uint256)", (usd,)),
        ),
        Invariant(
            "flash-weth-liquidity-held",
            ViewCall(weth, "balanceOf(address)(uint256)", (flash,)),
            ">=",
            ViewCall(flash, "liquidity(address)(uint256)", (weth,)),
        ),
        Invariant(
            "pool-reserve0-held",
            ViewCall(_token0(live), "balanceOf(address)(uint256)", (pool,)),
            ">=",
            ViewCall(pool, "getReserves()(uint256,uint256)"),
        ),
    )


def _token0(live: LiveRun) -> str:
    p = live.world.protocol
    usd, weth = p.token("usd").address, p.token("weth").address
    return min(usd, weth, key=lambda a: int(a, 16))


def bench_one(name: str, compiler: Compiler, regress: int, fuzz: int) -> dict[str, Any]:
    scenario = load_corpus().get(name)
    started = time.perf_counter()
    with live_scenario(scenario, compiler, benign=regress + 20) as live:
        setup_s = time.perf_counter() - started
        request = VerifyRequest(
            rpc_url=live.url,
            proxy=live.proxy,
            candidate=live.fix,
            contract=live.contract,
            attack_txs=live.attack_txs,
            regress=regress,
            protected=live.protected + live.victims,
            invariants=protocol_invariants(live),
            price_oracle=live.world.protocol.address("oracle"),
            fuzz_examples=fuzz,
        )
        t = time.perf_counter()
        verdict, timings = run(verify_with_timings(request, compiler=compiler))
        seconds = time.perf_counter() - t
    doc = verdict.evidence.document
    return {
        "seconds": round(seconds, 2),
        "setup_seconds": round(setup_s, 2),
        "breakdown": timings.seconds,
        "passed": verdict.passed,
        "reasons": [str(r) for r in verdict.reasons],
        "replayed": doc["regression"]["replayed"],
        "differences": len(doc["regression"]["differences"]),
        "differences_sample": doc["regression"]["differences"][:3],
        "invariants": [(i["name"], i["holds"]) for i in doc["invariants"]["fuzz"]],
        "attack_blocked": verdict.attack_blocked,
        "gas_overhead_pct": verdict.gas_overhead_pct,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--regress", type=int, default=500)
    ap.add_argument("--fuzz", type=int, default=5, help="fuzz examples (each ~6 steps)")
    ap.add_argument("--scenario", action="append", default=[])
    args = ap.parse_args()
    configure("warning")
    names = args.scenario or list(load_corpus().names())
    results: dict[str, dict[str, Any]] = {}
    with Compiler() as compiler:
        for name in names:
            results[name] = bench_one(name, compiler, args.regress, args.fuzz)
            if not args.json:
                r = results[name]
                print(
                    f"{name:28s} {r['seconds']:7.2f} s  pass={r['passed']} replayed={r['replayed']} "
                    f"breakdown={r['breakdown']}",
                    flush=True,
                )
    seconds = {n: r["seconds"] for n, r in results.items()}
    out = {
        "seconds_by_scenario": seconds,
        "seconds_max": max(seconds.values(), default=0.0),
        "target_seconds": 60,
        "regress": args.regress,
        "breakdown": {n: r["breakdown"] for n, r in results.items()},
        "verdicts": {n: {k: v for k, v in r.items() if k not in ("breakdown",)} for n, r in results.items()},
    }
    if args.json:
        print(json.dumps(out))
    else:
        print(f"max {out['seconds_max']:.2f} s (target < 60 s)")


if __name__ == "__main__":
    main()
