"""The production loop's latency on LendHub (a protocol Bulwark did not write): from the attack's
strike entering the mempool to a verified upgrade proposal waiting for the owners' signatures, with
``bulwark watch`` as its own process on a configuration written by ``bulwark init``.

Cold: a fresh compiler-output cache (solcjs releases kept), so every compile of the incident runs.
Warm: the same cache again, on a new chain. Goal: under 10 s warm.

    .venv/bin/python bench/loop.py [--runs N] [--json]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from tests.support.lendhub import deploy_guarded_lendhub  # noqa: E402

from bulwark.chain import ChainClient  # noqa: E402
from bulwark.domain.govern import GovAction  # noqa: E402
from bulwark.govern import proposals  # noqa: E402
from bulwark.scenarios.lendhub import lendhub_project, run_attack  # noqa: E402
from bulwark.store import Store  # noqa: E402
from bulwark.toolchain.anvil import Anvil, AnvilOptions  # noqa: E402
from bulwark.toolchain.paths import cache_dir  # noqa: E402
from bulwark.toolchain.solc import Compiler  # noqa: E402

CLI = Path(sys.executable).with_name("bulwark")
ATTACK = "collateral-reentrancy"


def _proposed(store: Store) -> bool:
    return any(
        p.action is GovAction.UPGRADE for inc in store.incidents() for p, _ in proposals(store, inc.id)
    )


def one_run(cache: Path, work: Path) -> dict[str, float]:
    """One attack on a fresh chain; seconds from the strike's broadcast to the stored proposal."""
    loop = asyncio.new_event_loop()
    project = lendhub_project()
    env = {**os.environ, "BULWARK_CACHE": str(cache)}
    with Anvil(AnvilOptions(accounts=12)) as node, project.compiler() as compiler, Compiler() as bc:
        client = ChainClient(node.http_url)
        g = loop.run_until_complete(deploy_guarded_lendhub(client, compiler, bc, node.accounts))
        env["BULWARK_SENTINEL_KEY"] = g.sentinel.private_key
        cfg = work / "bulwark.yaml"
        proxies = [a for c in g.lendhub.components.values() for a in ("--proxy", c.proxy)]
        subprocess.run(
            [str(CLI), "init", "--rpc", node.http_url, "--project", str(project.root), *proxies,
             "--out", str(cfg), "--name", "lendhub"],
            env=env, check=True, capture_output=True, cwd=work,
        )  # fmt: skip
        doc = yaml.safe_load(cfg.read_text())
        doc["networks"]["main"]["poll_interval_s"] = 0.25  # a chain mining a block a second
        cfg.write_text(yaml.safe_dump(doc, sort_keys=False))
        loop.run_until_complete(client.set_automine(False))
        loop.run_until_complete(client.request("evm_setIntervalMining", [1]))
        state = work / "state"
        state.mkdir()
        store = Store(f"sqlite:///{state / 'bulwark.db'}")
        out = (work / "watch.out").open("w")
        watch = subprocess.Popen(
            [str(CLI), "watch", "-c", str(cfg), "--state-dir", str(state), "--json"],
            env=env, stdout=out, stderr=subprocess.STDOUT, cwd=work,
        )  # fmt: skip
        try:
            while store.lease_holder("watch") is None:
                time.sleep(0.1)
            started = time.perf_counter()
            # The attacker's deployment and strike enter the pool together (mined in one block).
            loop.run_until_complete(run_attack(client, compiler, g.lendhub, ATTACK, g.attacker, wait=False))
            while not _proposed(store):
                if time.perf_counter() - started > 600 or watch.poll() is not None:
                    raise SystemExit(f"no proposal; see {work / 'watch.out'}")
                time.sleep(0.1)
            seconds = time.perf_counter() - started
        finally:
            watch.send_signal(signal.SIGTERM)
            watch.wait(timeout=60)
            store.close()
            loop.run_until_complete(client.close())
            loop.close()
    return {"detect_to_verified_proposal_s": round(seconds, 2)}


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=2, help="warm runs after the cold one")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bulwark-loop-") as tmp:
        cache = Path(tmp) / "cache"
        cache.mkdir()
        releases = cache_dir() / "solcjs"
        if releases.is_dir():  # fetched compiler releases are not what "cold" measures
            shutil.copytree(releases, cache / "solcjs")
        runs = []
        for i in range(1 + args.runs):
            work = Path(tmp) / f"run-{i}"
            work.mkdir()
            runs.append(one_run(cache, work)["detect_to_verified_proposal_s"])
    warm = runs[1:]
    result = {
        "attack": ATTACK,
        "cold_s": runs[0],
        "warm_s": warm,
        "warm_median_s": round(statistics.median(warm), 2) if warm else None,
        "load_avg_1m": round(os.getloadavg()[0], 2),
    }
    if args.json:
        print(json.dumps(result))
        return
    print(f"LendHub {ATTACK}: strike broadcast -> verified upgrade proposal (watch as its own process)")
    print(f"  cold  {runs[0]:.2f} s")
    for s in warm:
        print(f"  warm  {s:.2f} s")
    print(f"  load average (1 min) {result['load_avg_1m']}")


if __name__ == "__main__":
    main()
