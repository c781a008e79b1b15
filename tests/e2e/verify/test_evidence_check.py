"""``bulwark verify --evidence-out`` then ``bulwark evidence check``, as separate processes on anvil."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.e2e.verify.live import LiveRun, live_scenario

from bulwark.scenarios.corpus import load_corpus
from bulwark.toolchain.solc import Compiler

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture(scope="module")
def vault_live() -> Iterator[LiveRun]:
    with (
        Compiler(root=ROOT) as compiler,
        live_scenario(load_corpus().get("vault-mint-pricing"), compiler, benign=4) as live,
    ):
        yield live


def _bulwark(*args: str) -> subprocess.CompletedProcess[str]:
    cmd = [sys.executable, "-m", "bulwark.cli.main", *args]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=300, env={**os.environ}, check=False)


def test_exported_bundle_checks_out_and_fails_naming_an_altered_field(
    vault_live: LiveRun, tmp_path: Path
) -> None:
    bundle = tmp_path / "evidence.json"
    args = ["verify", "--rpc", vault_live.url, "--proxy", vault_live.proxy, "--candidate",
            str(vault_live.fix), "--contract", vault_live.contract, "--regress", "4", "--json",
            "--evidence-out", str(bundle)]  # fmt: skip
    for h in vault_live.attack_txs:
        args += ["--attack-tx", h]
    verified = _bulwark(*args)
    assert verified.returncode == 0, verified.stderr
    evidence_hash = json.loads(verified.stdout)["evidence_hash"]

    checked = _bulwark("evidence", "check", str(bundle), "--expect", evidence_hash)
    assert checked.returncode == 0, checked.stderr
    assert checked.stdout == f"OK  evidence {evidence_hash}  (recorded verdict: PASS)\n"

    data = json.loads(bundle.read_text())
    data["document"]["attack_txs"] = []  # claim no attack was replayed
    bundle.write_text(json.dumps(data))
    altered = _bulwark("evidence", "check", str(bundle))
    assert altered.returncode == 1 and altered.stdout == ""
    assert "document.attack_txs was altered" in altered.stderr and altered.stderr.count("\n") == 1
