"""Every built-in detector's WIKI link lands on a section of docs/detectors.md that states its
class and documents each of its thresholds."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from bulwark.detect.base import Detector
from bulwark.detect.registry import BUILTINS

ROOT = Path(__file__).resolve().parents[3]
DOC = (ROOT / "docs" / "detectors.md").read_text()


def _section(anchor: str) -> str:
    match = re.search(rf"^## {re.escape(anchor)}\n(.*?)(?=^## |\Z)", DOC, re.M | re.S)
    assert match, f"docs/detectors.md has no section '## {anchor}'"
    return match.group(1)


@pytest.mark.parametrize("cls", BUILTINS, ids=[c.ARGUMENT for c in BUILTINS])
def test_wiki_section_documents_class_and_thresholds(cls: type[Detector]) -> None:
    path, _, anchor = cls.WIKI.partition("#")
    assert path == "docs/detectors.md"
    body = _section(anchor)
    assert cls.CLASS is not None and f"`{cls.CLASS.value}`" in body
    for name in cls.PARAMS.model_fields if cls.PARAMS else ():
        if name == "rules":
            continue  # the rules section documents the rule format instead
        assert f"`{name}`" in body, f"{cls.ARGUMENT}: threshold {name} undocumented"
    assert f"[{cls.ARGUMENT}](#{anchor})" in DOC  # listed in the summary table
