"""Scenario corpus: per scenario, deploy time, attack time and the loss without protection.

    .venv/bin/python bench/scenarios.py [--json] [--benign-txs N] [--only NAME ...] [--benign N]

Each scenario runs on its own fresh anvil (deploy + scenario set-up, benign traffic, attack);
``--benign N`` also times N benign transactions on a fresh deployment. Not part of the test run;
figures depend on the machine and its load (compiles are cached on disk after the first run).
"""

from __future__ import annotations

import argparse
import json
import time
from typing import Any

from bulwark.logs import configure
from bulwark.scenarios.corpus import load_corpus
from bulwark.scenarios.runner import RunOptions, run_benign_on_fresh_chain, run_scenario
from bulwark.toolchain.solc import Compiler


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--benign-txs", type=int, default=30, help="benign transactions before each attack")
    parser.add_argument("--only", nargs="*", default=None, help="run only these scenarios")
    parser.add_argument("--benign", type=int, default=0, help="also time N benign transactions")
    args = parser.parse_args()
    configure("warning")

    corpus = load_corpus()
    rows: list[dict[str, Any]] = []
    started = time.perf_counter()
    with Compiler() as compiler:
        for scenario in corpus:
            if args.only and scenario.name not in args.only:
                continue
            r = run_scenario(scenario, RunOptions(benign_txs=args.benign_txs), compiler=compiler)
            rows.append(
                {
                    "scenario": r.scenario,
                    "class": r.vuln_class,
                    "deploy_s": round(r.deploy_seconds, 3),
                    "benign_s": round(r.benign_seconds, 3),
                    "attack_s": round(r.attack_seconds, 3),
                    "attack_txs": len(r.attack_txs),
                    "attack_succeeded": r.attack_succeeded,
                    "loss_wei": r.loss_wei,
                    "loss_usd": round(r.loss_wei / 10**18, 2),
                }
            )
            if not args.json:
                row = rows[-1]
                print(
                    f"{row['scenario']:<26} {row['class']:<20} deploy {row['deploy_s']:6.2f} s  "
                    f"attack {row['attack_s']:5.2f} s ({row['attack_txs']} txs)  "
                    f"loss {row['loss_usd']:>14,.2f} USD",
                    flush=True,
                )
        benign: dict[str, Any] | None = None
        if args.benign:
            benign = run_benign_on_fresh_chain(args.benign, compiler=compiler).to_json()
            if not args.json:
                print(
                    f"benign traffic: {benign['txs']} txs, {benign['reverted']} reverted, "
                    f"{benign['seconds']} s ({benign['tx_per_s']} tx/s)"
                )
    total = round(time.perf_counter() - started, 3)
    if args.json:
        print(json.dumps({"scenarios": rows, "benign": benign, "total_s": total}))
    else:
        print(f"total {total} s")


if __name__ == "__main__":
    main()
