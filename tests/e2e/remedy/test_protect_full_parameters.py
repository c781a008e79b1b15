"""``--protect full`` choosing the smaller change: the oracle-manipulation scenario is contained,
remedied by a parameter change through the Safe and the timelock, and resumed."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from bulwark.domain.govern import GovAction, ProposalState
from bulwark.govern import proposals
from bulwark.store import Store

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[3]


def test_cli_protect_full_reports_a_parameter_remedy(tmp_path: Path) -> None:
    db = tmp_path / "bulwark.db"
    proc = subprocess.run(
        [sys.executable, "-m", "bulwark.cli.main", "scenario", "run", "spot-price-collateral",
         "--protect", "full", "--json", "--benign-txs", "12"],
        cwd=tmp_path, capture_output=True, text=True, timeout=600, check=False,
        env={**os.environ, "BULWARK_DATABASE_URL": f"sqlite:///{db}"},
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-2000:]
    out = json.loads(proc.stdout)
    assert out["remedy"] == "parameters"
    assert out["flow_state"] == "closed", out["flow_reason"]
    assert out["loss_wei"] == 0 and not out["attack_succeeded"]
    assert out["resumed"] and out["verification"]["attack_blocked"] is True
    assert out["evidence_hash"].startswith("0x")
    impact = out["impact"]
    assert isinstance(impact["benign_failed"], int)
    assert impact["largest_price_change"] and impact["largest_liquidity_change"]
    store = Store(f"sqlite:///{db}")  # the CLI's store (BULWARK_DATABASE_URL)
    try:
        params = [(p, s) for p, s in proposals(store) if p.action is GovAction.PARAMETERS]
        assert params and all(s is ProposalState.EXECUTED for _, s in params)
        assert params[0][0].evidence_hash == out["evidence_hash"]
        assert "benign txs would have failed" in params[0][0].description
        assert not [p for p, _ in proposals(store) if p.action is GovAction.UPGRADE]  # no new code
    finally:
        store.close()
