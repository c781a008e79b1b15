"""The ``bulwark.yaml`` of a deployed demo protocol as a team would write it for pre-emptive
patching: its project, contracts, policy and an ``intel.own_code`` entry, and no ``signers``
section (the owners sign themselves, so the pipeline stops at approval)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from bulwark.lab.demo import write_demo_config
from bulwark.scenarios.attack import World
from bulwark.scenarios.corpus import Scenario


def preempt_config(
    world: World, scenario: Scenario, *, rpc_url: str, ws_url: str, folder: Path, intel: dict[str, Any]
) -> Path:
    path = write_demo_config(world, scenario, rpc_url=rpc_url, ws_url=ws_url, folder=folder)
    doc = yaml.safe_load(path.read_text())
    del doc["signers"]
    src = (folder / "project" / "src" / scenario.name / scenario.vulnerable.source.name).resolve()
    own = {"protocol": "demo", "component": scenario.component, "source": str(src),
           "contract": scenario.vulnerable.contract}  # fmt: skip
    doc["intel"] = {**intel, "own_code": [own]}
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    return path
