"""The demo protocol as a team would configure it: the ``bulwark.yaml`` a scenario run writes once
its protocol is deployed, so that the product pipeline (:mod:`bulwark.app.pipeline`) carries the
incident exactly as ``bulwark watch`` does for a team's own protocol.

    path = write_demo_config(world, scenario, rpc_url=..., ws_url=..., folder=run_dir)
    config = load_demo_config(path, protocol)     # the demo's keys exported where the config says

What the configuration holds:

* ``protocols.demo.source``: a Foundry project written beside it (``foundry.toml`` with the
  settings the demo was compiled with; ``src/protocol`` the demo contracts, ``src/<scenario>`` the
  scenario's deployed implementation), and per contract its proxy and implementation (file,
  contract); the tokens and extra assets with who holds them;
* ``policies.demo``: the demo Safe (2 of 3) proposing to the demo timelock, with view calls that must
  answer after an upgrade;
* ``signers.demo``: the demo owners' keys, as ``env:`` references only. This section is what makes
  the demo sign its own proposals; a production configuration has none.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import yaml

from bulwark.config import BulwarkConfig
from bulwark.config.loader import load_config
from bulwark.domain import Address, Severity
from bulwark.domain.govern import ActionRule, GovAction, Policy
from bulwark.lab.protect import KINDS
from bulwark.scenarios.attack import World
from bulwark.scenarios.corpus import Scenario
from bulwark.scenarios.deploy import DEFAULT_IMPLEMENTATIONS
from bulwark.scenarios.protocol import DemoProtocol
from bulwark.toolchain.paths import project_root

__all__ = [
    "HOLDS",
    "PROTOCOL",
    "demo_policy",
    "export_demo_keys",
    "load_demo_config",
    "write_demo_config",
]

PROTOCOL = "demo"
# Which demo tokens each component holds (what a pause protects, what verification counts).
HOLDS: Mapping[str, tuple[str, ...]] = {
    "lending": ("usd", "weth"),
    "vault": ("usd",),
    "flash": ("usd", "weth"),
    "pool": ("usd", "weth"),
}
# Views of each component that must answer after an upgrade (eth_call from a normal user).
_SMOKE: Mapping[str, tuple[str, Callable[[DemoProtocol], tuple[Any, ...]]]] = {
    "vault": ("totalAssets", lambda p: ()),
    "lending": ("healthFactor", lambda p: (p.users[0].address,)),
    "oracle": ("price", lambda p: (p.token("weth").address,)),
    "pool": ("getReserves", lambda p: ()),
    "flash": ("maxFlashLoan", lambda p: (p.token("usd").address,)),
}
_OWNER_ENV = "BULWARK_DEMO_OWNER_KEY_{}"
_SENTINEL_ENV = "BULWARK_DEMO_SENTINEL_KEY"


def demo_policy(protocol: DemoProtocol) -> Policy:
    """The demo protocol's policy: council = the 2-of-3 Safe owners, the demo timelock delay."""
    owners = tuple(Address(o.address) for o in protocol.safe_owners)
    delay = protocol.timelock_delay
    return Policy(
        protocol=PROTOCOL,
        safe=Address(protocol.safe.address),
        timelock=Address(protocol.timelock.address),
        proxies={name: Address(c.proxy) for name, c in protocol.components.items()},
        owners=owners,
        safe_threshold=protocol.safe_threshold,
        rules={
            (GovAction.UPGRADE, Severity.CRITICAL): ActionRule(protocol.safe_threshold, delay, owners, 3600),
            (GovAction.UPGRADE, None): ActionRule(protocol.safe_threshold, delay, owners),
            (GovAction.UNPAUSE, None): ActionRule(protocol.safe_threshold, delay, owners),
        },
        sentinels=(Address(protocol.sentinel.address),),
        council=owners,
        guardian=Address(protocol.guardian.address),
    )


def _signature(abi: Any, fn: str) -> str:
    for entry in abi:
        if entry.get("type") == "function" and entry.get("name") == fn:
            return f"{fn}({','.join(str(i['type']) for i in entry.get('inputs', []))})"
    raise KeyError(fn)


def _project(scenario: Scenario, protocol: DemoProtocol, folder: Path) -> dict[str, tuple[str, str]]:
    """Write the demo's Foundry project under ``folder``; returns component -> (file, contract)."""
    root = project_root()
    if folder.exists():
        shutil.rmtree(folder)
    shutil.copytree(root / "contracts" / "protocol", folder / "src" / "protocol")
    own = folder / "src" / scenario.name
    own.mkdir(parents=True)
    for sol in scenario.sources():  # the scenario's contracts but its attacker's
        if sol.resolve() != scenario.attacker.source.resolve():
            shutil.copyfile(sol, own / sol.name)
    # The settings the demo was compiled with (bulwark.scenarios.deploy): optimizer on, 200 runs.
    (folder / "foundry.toml").write_text(
        '[profile.default]\nsrc = "src"\noptimizer = true\noptimizer_runs = 200\n'
        'remappings = ["contracts/protocol/=src/protocol/"]\n'
    )
    out = {}
    for name in protocol.components:
        if name == scenario.component:
            out[name] = (
                f"src/{scenario.name}/{scenario.vulnerable.source.name}",
                scenario.vulnerable.contract,
            )
        elif name in DEFAULT_IMPLEMENTATIONS:
            spec = DEFAULT_IMPLEMENTATIONS[name]
            out[name] = (f"src/protocol/{spec.source_path.name}", spec.contract_name)
    return out


def write_demo_config(world: World, scenario: Scenario, *, rpc_url: str, ws_url: str, folder: Path) -> Path:
    """The demo's ``bulwark.yaml`` (and its project and ABI files) under ``folder``."""
    p = world.protocol
    folder.mkdir(parents=True, exist_ok=True)
    impls = _project(scenario, p, folder / "project")
    (folder / "abi").mkdir(exist_ok=True)
    contracts: dict[str, Any] = {}
    for name, comp in p.components.items():
        (folder / "abi" / f"{name}.json").write_text(json.dumps(list(comp.abi)))
        contracts[name] = {
            "address": comp.proxy,
            "kind": KINDS.get(name, "generic"),
            "abi": f"abi/{name}.json",
        }
        if name in impls:
            contracts[name]["implementation"] = {"file": impls[name][0], "contract": impls[name][1]}
    assets = {
        t: {"address": tok.address, "held_by": [c for c in p.components if t in HOLDS.get(c, ())]}
        for t, tok in {**p.tokens, **world.tokens}.items()
    }
    rule = {"threshold": p.safe_threshold, "delay_s": p.timelock_delay}
    smoke = []
    for name, (fn, args) in _SMOKE.items():
        if name in p.components:
            sig = _signature(p.components[name].abi, fn)
            smoke.append(
                {"contract": name, "function": sig, "args": list(args(p)), "from": p.users[0].address}
            )
    doc = {
        "version": 1,
        "networks": {"local": {"chain_id": p.chain_id, "rpc_http": rpc_url, "rpc_ws": ws_url}},
        "protocols": {
            PROTOCOL: {"network": "local", "source": "project", "contracts": contracts, "assets": assets}
        },
        "responses": {"sentinel_key": f"env:{_SENTINEL_ENV}", "guardians": {PROTOCOL: p.guardian.address}},
        "policies": {
            PROTOCOL: {
                "safe": p.safe.address,
                "timelock": p.timelock.address,
                "guardian": p.guardian.address,
                "owners": [o.address for o in p.safe_owners],
                "threshold": p.safe_threshold,
                "proxies": list(p.components),
                "roles": {"sentinel": [p.sentinel.address], "council": [o.address for o in p.safe_owners]},
                "actions": {
                    "upgrade": {"default": rule, "critical": {**rule, "ttl_s": 3600}},
                    "unpause": {"default": rule},
                },
                "smoke": smoke,
            }
        },
        # The demo's owners sign in the approve step: only because this section says so.
        "signers": {PROTOCOL: [{"key": f"env:{_OWNER_ENV.format(i)}"} for i in range(p.safe_threshold)]},
    }
    path = folder / "bulwark.yaml"
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    return path


def export_demo_keys(protocol: DemoProtocol) -> None:
    """Put the demo's keys (local dev keys) where its configuration's references point."""
    for i, owner in enumerate(protocol.safe_owners[: protocol.safe_threshold]):
        os.environ[_OWNER_ENV.format(i)] = owner.private_key
    os.environ[_SENTINEL_ENV] = protocol.sentinel.private_key


def load_demo_config(path: Path, protocol: DemoProtocol) -> BulwarkConfig:
    export_demo_keys(protocol)
    return load_config(path)
