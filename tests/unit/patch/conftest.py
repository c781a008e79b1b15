from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from bulwark.toolchain.solc import Compiler

HERE = Path(__file__).parent
# Regenerate the golden diffs with: BULWARK_UPDATE_SNAPSHOTS=1 pytest tests/unit/patch
UPDATE = os.environ.get("BULWARK_UPDATE_SNAPSHOTS") == "1"


@pytest.fixture(scope="session")
def compiler() -> Iterator[Compiler]:
    with Compiler(root=HERE) as c:
        yield c


def check_snapshot(name: str, text: str) -> None:
    path = HERE / "snapshots" / f"{name}.diff"
    if UPDATE or not path.exists():
        if not UPDATE:
            pytest.fail(f"no snapshot {path.name}; run with BULWARK_UPDATE_SNAPSHOTS=1 to create it")
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        return
    assert text == path.read_text(), f"diff changed for {name} (BULWARK_UPDATE_SNAPSHOTS=1 to accept)"
