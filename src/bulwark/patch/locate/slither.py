"""Slither's detectors as localisation evidence (run in-process on the compile we already have)."""

from __future__ import annotations

import dataclasses
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from bulwark.domain import VulnClass
from bulwark.domain.patch import Localisation
from bulwark.errors import SlitherError
from bulwark.toolchain.artifacts import CompileResult
from bulwark.toolchain.slither import run_detectors, slither_for_result

# detector -> (class, base score); only detectors a template can act on or that rank a finding.
DETECTORS: Mapping[str, tuple[VulnClass, float]] = {
    "reentrancy-eth": (VulnClass.REENTRANCY, 0.75),
    "reentrancy-no-eth": (VulnClass.REENTRANCY, 0.65),
    "reentrancy-balance": (VulnClass.REENTRANCY, 0.6),
    "unchecked-transfer": (VulnClass.UNCHECKED_RETURN, 0.8),
    "unchecked-lowlevel": (VulnClass.UNCHECKED_RETURN, 0.75),
    "unchecked-send": (VulnClass.UNCHECKED_RETURN, 0.7),
    "tx-origin": (VulnClass.TX_ORIGIN, 0.8),
    "suicidal": (VulnClass.UNPROTECTED_SELFDESTRUCT, 0.9),
    "controlled-delegatecall": (VulnClass.UNPROTECTED_DELEGATECALL, 0.85),
    # sending to a caller-chosen address is what payment functions do: corroboration only, never
    # enough on its own to put an access check on a function users call
    "arbitrary-send-eth": (VulnClass.ACCESS_CONTROL, 0.3),
    "arbitrary-send-erc20": (VulnClass.ACCESS_CONTROL, 0.3),
    "unprotected-upgrade": (VulnClass.ACCESS_CONTROL, 0.9),
    "weak-prng": (VulnClass.WEAK_RANDOMNESS, 0.5),
    "calls-loop": (VulnClass.DOS, 0.3),
    "timestamp": (VulnClass.TIMESTAMP_DEPENDENCE, 0.2),
}


def slither_findings(result: CompileResult, editable: Mapping[str, str]) -> list[Localisation]:
    """Run the detectors above on ``result`` (sources are materialised in a temporary folder)."""
    with tempfile.TemporaryDirectory(prefix="bulwark-patch-") as tmp:
        root = Path(tmp)
        units = {}
        for name, unit in result.sources.items():
            content = editable.get(name, unit.content)
            if content is None or Path(name).is_absolute() or ".." in Path(name).parts:
                units[name] = unit
                continue
            path = root / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(content, encoding="utf-8")
            units[name] = dataclasses.replace(unit, file=path)
        local = dataclasses.replace(result, sources=units)
        try:
            slither = slither_for_result(local, root)
            raw = run_detectors(slither, detectors=DETECTORS)
        except SlitherError:
            raise
        except Exception as exc:  # Slither fails in many ways on inputs it does not understand
            raise SlitherError(f"Slither failed: {type(exc).__name__}: {exc}") from exc
    return [loc for r in raw if (loc := _to_localisation(r, editable, root)) is not None]


def _to_localisation(raw: Mapping[str, Any], editable: Mapping[str, str], root: Path) -> Localisation | None:
    check = str(raw.get("check", ""))
    if check not in DETECTORS:
        return None
    cls, score = DETECTORS[check]
    if raw.get("confidence") == "Low":
        score -= 0.1
    for element in raw.get("elements") or []:
        mapping = element.get("source_mapping") or {}
        path = _unit_name(mapping, root)
        if path is None or path not in editable:
            continue
        contract, function = _owner(element)
        if contract is None:
            continue
        return Localisation(
            detector=f"slither:{check}",
            vuln_class=cls,
            contract=contract,
            function=function,
            lines=tuple(int(n) for n in (mapping.get("lines") or [])[:1]),
            score=round(score, 3),
            evidence=(str(raw.get("description", "")).strip().splitlines()[0][:200],),
            path=path,
            start=mapping.get("start"),
            length=mapping.get("length"),
        )
    return None


def _unit_name(mapping: Mapping[str, Any], root: Path) -> str | None:
    """Slither's ``filename_relative`` is relative to the process's cwd: go through the absolute path."""
    absolute = mapping.get("filename_absolute")
    if not absolute:
        return None
    try:
        return Path(absolute).resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        return None


def _owner(element: Mapping[str, Any]) -> tuple[str | None, str | None]:
    kind = element.get("type")
    name = str(element.get("name", ""))
    contract = name if kind == "contract" else None
    function = name if kind == "function" else None
    parent = (element.get("type_specific_fields") or {}).get("parent")
    while isinstance(parent, Mapping):
        if parent.get("type") == "function" and function is None:
            function = str(parent.get("name"))
        elif parent.get("type") == "contract" and contract is None:
            contract = str(parent.get("name"))
        parent = (parent.get("type_specific_fields") or {}).get("parent")
    return contract, function
