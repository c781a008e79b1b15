"""``bulwark init`` on the demo protocol: UUPS proxies (no ProxyAdmin; the implementation upgrades
under UPGRADER_ROLE), sources given as one solc standard-JSON input, AccessControl roles held by the
timelock and the guardian."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from tests.e2e.protocol.conftest import ProtocolEnv, protocol_env

from bulwark.scenarios.deploy import PROTOCOL_SOURCES

__all__ = ["protocol_env"]

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

CLI = Path(sys.executable).with_name("bulwark")


def test_init_on_uups_proxies_with_a_standard_json_source(protocol_env: ProtocolEnv, tmp_path: Path) -> None:
    p = protocol_env.protocol
    # The exact input the demo was compiled from, as a team would export it (self-contained).
    built = protocol_env.compiler.compile_files(list(PROTOCOL_SOURCES))
    source = tmp_path / "input.json"
    source.write_text(json.dumps(built.standard_json_input))
    out = tmp_path / "bulwark.yaml"
    proxies = [arg for c in p.components.values() for arg in ("--proxy", c.proxy)]
    env = {**os.environ, "BULWARK_SENTINEL_KEY": "0x" + "22" * 32}
    run = subprocess.run(
        [str(CLI), "init", "--rpc", protocol_env.node.http_url, "--project", str(source), *proxies,
         "--out", str(out), "--name", "demo"],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert run.returncode == 0, run.stderr
    text = out.read_text()
    doc = yaml.safe_load(text)
    proto = doc["protocols"]["demo"]
    assert proto["source"] == "input.json"
    by_proxy = {c["address"]: c for c in proto["contracts"].values()}
    for comp in p.components.values():
        cfg = by_proxy[comp.proxy]
        assert cfg["implementation"]["contract"] == comp.contract_name
        assert f"# UUPS proxy; implementation {comp.implementation}" in text
    # Who may upgrade: an eth_call of upgradeToAndCall(current implementation) from each role's holder.
    assert text.count("# upgrades through the implementation (UUPS): guarded by UPGRADER_ROLE\n") == len(
        p.components
    )
    assert "ProxyAdmin" not in text
    assert proto["roles"]["PAUSER_ROLE"] == [p.guardian.address]
    assert proto["roles"]["UPGRADER_ROLE"] == [p.timelock.address]
    policy = doc["policies"]["demo"]
    assert (policy["safe"], policy["timelock"]) == (p.safe.address, p.timelock.address)
    assert policy["threshold"] == p.safe_threshold and len(policy["owners"]) == len(p.safe_owners)
    assert policy["actions"]["upgrade"]["default"]["delay_s"] == p.timelock_delay
    assert sorted(policy["proxies"]) == sorted(proto["contracts"])

    check = subprocess.run(
        [str(CLI), "config", "check", "-c", str(out)],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert check.returncode == 0, check.stdout + check.stderr
    assert check.stdout.count("matches the deployed implementation") == len(p.components)
