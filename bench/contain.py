"""Containment benchmark: from an attack transaction's arrival in the mempool to the broadcast of
the pause that answers it, over repeated runs of every corpus scenario.

    .venv/bin/python bench/contain.py [--json] [--runs N] [--scenario NAME ...] [--benign N]

* ``response_ms_p50``/``p99``: per run, the attack's arrival on the WebSocket subscription
  (``time.perf_counter()`` as the watcher yields it) to the node accepting the pause
  (``eth_sendRawTransaction`` answered); it includes screening (simulation + detectors), the policy,
  fee computation and the broadcast over the relayer's own HTTP connection.
* ``decide_ms_*``: the respond stage alone (finding handed over -> broadcast accepted).
* ``presigned_share``: how many pauses went out pre-signed; ``sign_ms_p50`` is what a fresh
  signature costs on the hot path (what pre-signing saves), measured on the same key.
* ``paused_before_attack``/``loss_wei_total``: the bars, per run.
* ``benign_pauses``: pauses over ``--benign`` benign transactions under containment (bar: 0).

Not part of the test run; figures depend on the machine and its load.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from typing import Any

from bulwark.chain.client import TxRequest
from bulwark.chain.relayer import GWEI, Fees, Relayer
from bulwark.chain.signer import Signer
from bulwark.domain import Action, Address
from bulwark.lab.contain import run_benign_contain, run_scenario_contain
from bulwark.logs import configure
from bulwark.respond import PlannedAction, guardian_call
from bulwark.scenarios.corpus import load_corpus
from bulwark.scenarios.runner import RunOptions
from bulwark.toolchain.solc import Compiler


def pct(values: list[float], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))], 3)


def sign_cost(samples: int = 200) -> float:
    relayer = Relayer(client=None, signer=Signer("0x" + "4c" * 32))  # type: ignore[arg-type]
    relayer._chain_id = 31337
    targets = tuple(Address("0x" + f"{i:040x}") for i in range(1, 6))
    data = guardian_call(PlannedAction(Action.PAUSE, targets)).data
    req = TxRequest(to=Address("0x" + "99" * 20), data=data, gas=400_000)
    times = []
    for n in range(samples):
        t = time.perf_counter()
        relayer.sign(req, Fees(max_fee=100 * GWEI, tip=41 * GWEI), n)
        times.append((time.perf_counter() - t) * 1000)
    return statistics.median(times)


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--scenario", action="append", default=[])
    ap.add_argument("--benign", type=int, default=0, help="benign transactions under containment")
    args = ap.parse_args()
    configure("error")
    corpus = [s for s in load_corpus() if not args.scenario or s.name in args.scenario]
    response: list[float] = []
    decide: list[float] = []
    per_run: list[dict[str, Any]] = []
    presigned = total = 0
    comp = Compiler()
    try:
        for run in range(args.runs):
            for s in corpus:
                out = run_scenario_contain(s, RunOptions(benign_txs=3, seed=run), compiler=comp)
                sent = [c for c in out["containments"] if c["tx"] and not c["covered_by"]]
                for c in sent:
                    total += 1
                    presigned += bool(c["presigned"])
                    decide.append(c["decide_ms"])
                    if c["response_ms"] is not None:
                        response.append(c["response_ms"])
                per_run.append(
                    {
                        "scenario": s.name,
                        "run": run,
                        "response_ms": out["response_latency_ms"],
                        "paused_before_attack": out["paused_before_attack"],
                        "loss_wei": out["loss_wei"],
                    }
                )
                if not args.json:
                    print(
                        f"{s.name:<28} run {run}: response {out['response_latency_ms']} ms, "
                        f"before attack {out['paused_before_attack']}, loss {out['loss_wei']}",
                        file=sys.stderr,
                    )
        benign = run_benign_contain(args.benign, compiler=comp) if args.benign else None
    finally:
        comp.close()
    result = {
        "response_ms_p50": pct(response, 0.5),
        "response_ms_p99": pct(response, 0.99),
        "response_ms_max": max(response) if response else None,
        "decide_ms_p50": pct(decide, 0.5),
        "decide_ms_p99": pct(decide, 0.99),
        "samples": len(response),
        "presigned_share": round(presigned / total, 3) if total else None,
        "sign_ms_p50": round(sign_cost(), 3),
        "paused_before_attack": sum(r["paused_before_attack"] for r in per_run),
        "runs": len(per_run),
        "loss_wei_total": sum(r["loss_wei"] for r in per_run),
        "benign_txs": args.benign,
        "benign_pauses": None if benign is None else benign["containments"],
        "per_run": per_run,
    }
    print(json.dumps(result) if args.json else json.dumps(result, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
