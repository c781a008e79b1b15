"""The localisation checks: one per module under ``patch/locate/checks``, each registered in CHECKS."""

from __future__ import annotations

import importlib
import inspect
import pkgutil

from bulwark.patch.locate import checks
from bulwark.patch.locate.checks import CHECKS


def _check_modules() -> list[str]:
    return sorted(m.name for m in pkgutil.iter_modules(checks.__path__))


def test_each_module_holds_one_registered_check() -> None:
    registered = {(c.__module__, c.__name__) for c in CHECKS}
    for short in _check_modules():
        module = importlib.import_module(f"{checks.__name__}.{short}")
        defined = [
            name
            for name, obj in inspect.getmembers(module, inspect.isfunction)
            if name.startswith("check_") and obj.__module__ == module.__name__
        ]
        assert len(defined) == 1, f"{short}: one check per module, found {defined}"
        assert (module.__name__, defined[0]) in registered, f"{short}.{defined[0]} is not in CHECKS"


def test_every_registered_check_has_its_own_module() -> None:
    modules = [c.__module__ for c in CHECKS]
    assert len(set(modules)) == len(modules) == len(_check_modules())
