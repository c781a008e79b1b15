"""One compiler for every scenario run (solcjs processes are expensive to start)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from bulwark.toolchain.solc import Compiler


@pytest.fixture(scope="session")
def scenario_compiler() -> Iterator[Compiler]:
    with Compiler() as compiler:
        yield compiler
