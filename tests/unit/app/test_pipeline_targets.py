"""Which contracts the pipeline patches for an incident: those the findings name (the flaw's class
before a broken invariant, the most confident first), then the others the attack's call tree reached."""

from __future__ import annotations

from pathlib import Path
from typing import Any, cast

from bulwark.app.pipeline import PipelineOptions, ProtocolPipeline
from bulwark.chain import Signer
from bulwark.config import load_config
from bulwark.domain import Address, CallFrame
from bulwark.flow import StepContext

LENDING = "0x5FbDB2315678afecb367f032d93F642f64180aa3"
ORACLE = "0xe7f1725E7734CE288F8367e1Bb143E90bb3F0512"
FLASH = "0x9fE46736679d2D9a65F0992F2272dE9f3c7fa6e0"
ATTACKER = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"

CONFIG = f"""
version: 1
networks:
  local: {{rpc_http: "http://127.0.0.1:8545"}}
protocols:
  demo:
    network: local
    contracts:
      lending: {{address: "{LENDING}"}}
      oracle: {{address: "{ORACLE}"}}
      flash: {{address: "{FLASH}"}}
"""


class _Store:
    def __init__(self, findings: list[dict[str, Any]]) -> None:
        self._findings = findings

    def findings(self, _incident_id: str) -> list[dict[str, Any]]:
        return self._findings


def _frame(to: str, *calls: CallFrame) -> CallFrame:
    return CallFrame("CALL", Address(ATTACKER), Address(to), 0, b"", b"", 0, calls=calls)


def _targets(tmp_path: Path, findings: list[dict[str, Any]], trace: CallFrame | None) -> list[str]:
    path = tmp_path / "bulwark.yaml"
    path.write_text(CONFIG)
    pipe = ProtocolPipeline(
        load_config(path),
        "demo",
        cast(Any, None),
        Signer("0x" + "11" * 32),
        PipelineOptions(workdir=tmp_path),
        rpc_url="",
    )
    ctx = StepContext("inc-1", findings[0] if findings else {}, {}, _Store(findings))  # type: ignore[arg-type]
    return pipe._targets(ctx, trace)


def test_the_flaw_before_the_symptom_and_the_confident_first(tmp_path: Path) -> None:
    findings = [
        {"class": "invariant-break", "contract": LENDING, "confidence": "medium"},
        {"class": "oracle-manipulation", "contract": LENDING, "confidence": "medium"},
        {"class": "oracle-manipulation", "contract": ORACLE.lower(), "confidence": "high"},
    ]
    assert _targets(tmp_path, findings, None) == ["oracle", "lending"]


def test_the_contracts_the_attack_reached_come_after_the_named_ones(tmp_path: Path) -> None:
    findings = [{"class": "invariant-break", "contract": LENDING, "confidence": "medium"}]
    trace = _frame(ATTACKER, _frame(FLASH, _frame(ATTACKER, _frame(LENDING, _frame(ORACLE)))))
    assert _targets(tmp_path, findings, trace) == ["lending", "flash", "oracle"]
