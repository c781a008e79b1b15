"""forge test through the solcjs shim: passing and failing tests are reported as such."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from bulwark.errors import ForgeError
from bulwark.toolchain.forge import run_tests

pytestmark = pytest.mark.e2e


@pytest.fixture
def project(tmp_path: Path, solidity_fixtures: Path) -> Path:
    dest = tmp_path / "proj"
    shutil.copytree(solidity_fixtures / "forge_project", dest)
    return dest


def test_passing_and_failing_tests_are_reported(project: Path, solc_cache: Path) -> None:
    run = run_tests(project, cache=solc_cache)
    assert run.solc_version == "0.8.37"
    assert {t.name: t.passed for t in run.tests} == {
        "testBumpAccumulates()": True,
        "testBumpIsWrongOnPurpose()": False,
    }
    bad = run.test("testBumpIsWrongOnPurpose")
    assert bad.reason == "three is not four" and bad.contract == "test/Counter.t.sol:CounterTest"
    assert run.test("testBumpAccumulates").gas
    assert not run.passed and run.failures == (bad,)


def test_build_failure_is_forge_error_with_compiler_message(project: Path, solc_cache: Path) -> None:
    src = project / "src" / "Counter.sol"
    src.write_text(src.read_text().replace("return count;", "return count"))
    with pytest.raises(ForgeError) as info:
        run_tests(project, cache=solc_cache, solc_version="0.8.26")
    assert info.value.user_message.startswith("forge build failed: Error (2314): Expected ';'")
    assert "src/Counter.sol" in info.value.user_message
