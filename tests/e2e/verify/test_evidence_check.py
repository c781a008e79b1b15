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
from bulwark.verify.bundle import evidence_bundle
from bulwark.verify.evidence import make_evidence

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


def test_exported_bundle_checks_out_reproduces_on_the_chain_and_names_an_altered_field(
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

    # With the chain: the verification is run again from the bundle alone (sources written to a
    # scratch root, request rebuilt from the document) and reproduces the verdict and the hash.
    again = _bulwark("evidence", "check", str(bundle), "--rpc", vault_live.url)
    assert again.returncode == 0, again.stderr
    assert again.stdout.splitlines()[1] == "REPRODUCED  verdict PASS, same reasons; same evidence hash"

    # A forged bundle, re-hashed so that it checks out offline, claiming the fix failed: the re-run
    # on the chain tells.
    data = json.loads(bundle.read_text())
    forged_doc = {k: v for k, v in data["document"].items() if k != "format"}
    forged_doc["pass"] = False
    forged_doc["reasons"] = [{"check": "attack", "code": "attack-not-blocked", "subject": "attack",
                              "message": "forged", "fatal": True}]  # fmt: skip
    forged = tmp_path / "forged.json"
    forged.write_text(json.dumps(evidence_bundle(make_evidence(forged_doc))))
    differs = _bulwark("evidence", "check", str(forged), "--rpc", vault_live.url)
    assert differs.returncode == 1, differs.stderr
    assert differs.stdout.splitlines()[1].startswith("DIFFERENT  re-run verdict PASS with reasons []")

    data["document"]["attack_txs"] = []  # claim no attack was replayed
    bundle.write_text(json.dumps(data))
    altered = _bulwark("evidence", "check", str(bundle))
    assert altered.returncode == 1 and altered.stdout == ""
    assert "document.attack_txs was altered" in altered.stderr and altered.stderr.count("\n") == 1
