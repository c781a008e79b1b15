"""Importing an attack script: a scenario's or a reference protocol's ``attack.py``, by path."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

from bulwark.errors import ScenarioError

__all__ = ["import_script"]


def import_script(label: str, module_name: str, path: Path) -> ModuleType:
    """The module at ``path`` under ``module_name`` (imported once per file); ``label`` names the
    scenario or attack in the error when it cannot be imported."""
    cached = sys.modules.get(module_name)
    if cached is not None and getattr(cached, "__file__", None) == str(path):
        return cached
    spec = importlib.util.spec_from_file_location(module_name, path)
    if spec is None or spec.loader is None:
        raise ScenarioError(f"{label}: cannot import {path.name}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module
    try:
        spec.loader.exec_module(module)
    except Exception as exc:
        sys.modules.pop(module_name, None)
        raise ScenarioError(f"{label}: {path.name} failed to import: {type(exc).__name__}: {exc}") from exc
    return module
