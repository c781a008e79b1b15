"""``bulwark init`` on a deployed LendHub, as a subprocess: the written bulwark.yaml names what the
chain says (implementations, ProxyAdmins, the Safe's owners and threshold, the timelock's delay, the
PAUSER_ROLE holder, the source of each implementation) and ``bulwark config check`` passes on it.
A source edited after deployment is reported as not matching the deployed code."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from tests.e2e.product.conftest import LendHubEnv

from bulwark.app.sources import check_sources
from bulwark.config import load_config
from bulwark.scenarios.lendhub import LendHub
from bulwark.toolchain.paths import node_modules

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

CLI = Path(sys.executable).with_name("bulwark")
SENTINEL_KEY = "0x" + "11" * 32  # any key: config check only needs the variable to be set


def _bulwark(*args: str, cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(CLI), *args],
        cwd=cwd,
        env={**os.environ, "BULWARK_SENTINEL_KEY": SENTINEL_KEY, **(env or {})},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def _init(lendhub_env: LendHubEnv, project: Path, out: Path) -> dict[str, Any]:
    lh = lendhub_env.lendhub
    proxies = [arg for c in lh.components.values() for arg in ("--proxy", c.proxy)]
    run = _bulwark(
        "init", "--rpc", lendhub_env.node.http_url, "--project", str(project), *proxies,
        "--out", str(out), "--name", "lendhub", cwd=out.parent,
    )  # fmt: skip
    assert run.returncode == 0, run.stderr
    doc = yaml.safe_load(out.read_text())
    assert isinstance(doc, dict)
    return doc


def _copy_project(lh: LendHub, dest: Path) -> Path:
    """LendHub's project elsewhere, its remappings pointed at Bulwark's node_modules."""
    shutil.copytree(lh.project.root / "src", dest / "src")
    shutil.copy(lh.project.root / "foundry.toml", dest / "foundry.toml")
    oz = node_modules() / "@openzeppelin"
    (dest / "remappings.txt").write_text(
        f"@openzeppelin/contracts/={oz}/contracts/\n"
        f"@openzeppelin/contracts-upgradeable/={oz}/contracts-upgradeable/\n"
    )
    return dest


def test_init_writes_what_the_chain_says_and_config_check_passes(
    lendhub_env: LendHubEnv, tmp_path: Path
) -> None:
    lh = lendhub_env.lendhub
    out = tmp_path / "bulwark.yaml"
    doc = _init(lendhub_env, lh.project.root, out)
    text = out.read_text()

    assert doc["networks"]["main"]["chain_id"] == lh.chain_id
    proto = doc["protocols"]["lendhub"]
    assert (out.parent / proto["source"]).resolve() == lh.project.root
    contracts = proto["contracts"]
    by_proxy = {c["address"]: (name, c) for name, c in contracts.items()}
    for comp in lh.components.values():
        name, cfg = by_proxy[comp.proxy]
        assert cfg["implementation"] == {"file": comp.source.as_posix(), "contract": comp.contract_name}
        assert f"implementation {comp.implementation}" in text
        assert f"# ProxyAdmin (ERC-1967 admin): {comp.proxy_admin}, owned by {lh.timelock.address}" in text
        assert (out.parent / cfg["abi"]).is_file()
    # The guardian (a Bulwark guardian contract) holds PAUSER_ROLE, found by hasRole and pause() probes.
    assert proto["roles"]["PAUSER_ROLE"] == [lh.guardian]
    assert proto["roles"]["DEFAULT_ADMIN_ROLE"] == [lh.timelock.address]
    # The ProxyAdmins call upgradeToAndCall on their proxies: governance, not an attacker.
    assert set(proto["roles"]["PROXY_ADMIN"]) == {c.proxy_admin for c in lh.components.values()}
    assert (
        text.count(f"pause() guarded by PAUSER_ROLE (can pause: {lh.guardian} (the Bulwark guardian))") == 2
    )
    assert doc["responses"] == {
        "sentinel_key": "env:BULWARK_SENTINEL_KEY",
        "guardians": {"lendhub": lh.guardian},
    }
    usd = lh.tokens["usd"].address
    assets = {a["address"]: a for a in proto["assets"].values()}
    assert assets[usd]["decimals"] == 18 and set(assets[usd]["held_by"]) == set(contracts)
    assert assets["native"]["held_by"] == [by_proxy[lh.component("pool").proxy][0]]  # ETH collateral
    policy = doc["policies"]["lendhub"]
    assert policy["safe"] == lh.safe.address and policy["timelock"] == lh.timelock.address
    assert (
        policy["owners"] == [o.address for o in lh.safe_owners] and policy["threshold"] == lh.safe_threshold
    )
    assert policy["guardian"] == lh.guardian and sorted(policy["proxies"]) == sorted(contracts)
    assert policy["actions"]["upgrade"]["default"] == {"threshold": 2, "delay_s": lh.timelock_delay}
    assert f"min delay {lh.timelock_delay} s" in text
    assert f"# timelock PROPOSER_ROLE: {lh.safe.address}" in text

    check = _bulwark("config", "check", "-c", str(out), cwd=tmp_path)
    assert check.returncode == 0, check.stdout + check.stderr
    for comp in lh.components.values():
        name = by_proxy[comp.proxy][0]
        line = f"source lendhub.{name} ({comp.source.as_posix()}:{comp.contract_name}): matches the deployed"
        assert line in check.stdout
    # Nothing secret was written: the sentinel key is a reference, and its value is nowhere.
    assert SENTINEL_KEY not in text


def test_a_source_edited_after_deployment_does_not_match(lendhub_env: LendHubEnv, tmp_path: Path) -> None:
    lh = lendhub_env.lendhub
    project = _copy_project(lh, tmp_path / "project")
    out = tmp_path / "bulwark.yaml"
    _init(lendhub_env, project, out)
    check = _bulwark("config", "check", "-c", str(out), cwd=tmp_path)
    assert check.returncode == 0, check.stdout + check.stderr

    pool = project / "src" / "LendingPool.sol"
    text = pool.read_text()
    # A comment changes only the metadata hash, which the comparison strips: still the same program.
    pool.write_text(text + "\n// reviewed\n")
    check = _bulwark("config", "check", "-c", str(out), cwd=tmp_path)
    assert check.returncode == 0, check.stdout + check.stderr

    edited = text.replace("if (debt > limit) revert", "if (debt >= limit) revert", 1)
    assert edited != text
    pool.write_text(edited)
    check = _bulwark("config", "check", "-c", str(out), cwd=tmp_path)
    assert check.returncode == 2
    assert "source lendhub.lending_pool (src/LendingPool.sol:LendingPool): does not match" in check.stderr
    assert "code differs from byte" in check.stderr and "the source differs" in check.stderr
    assert "savings_vault" not in check.stderr  # the untouched contract still matches
    # The same check for one contract, as a step about to patch it asks.
    [one] = lendhub_env.run(check_sources(load_config(out), only=("lendhub", "lending_pool")))
    assert (one.status, one.implementation) == ("mismatch", lh.component("pool").implementation)


def test_config_check_without_the_chain_says_the_source_was_not_checked(
    lendhub_env: LendHubEnv, tmp_path: Path
) -> None:
    out = tmp_path / "bulwark.yaml"
    _init(lendhub_env, lendhub_env.lendhub.project.root, out)
    offline = out.read_text().replace(lendhub_env.node.http_url, "http://127.0.0.1:9")
    out.write_text(offline)
    check = _bulwark("config", "check", "-c", str(out), cwd=tmp_path)
    assert check.returncode == 0, check.stdout + check.stderr
    assert check.stdout.count("not checked against the chain: the chain is not reachable") == 2, check.stdout
