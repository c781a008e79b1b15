"""Every corpus case is real: on the unpatched contract the exploit reaches its goal and normal use works.

Independent of the patch engine. One anvil (zero fees) for the module; each case runs between an
evm_snapshot and an evm_revert.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest
from tests.support.patchcase import Case, CaseResult, CaseRunner, anvil_options, load_corpus

from bulwark.chain import ChainClient
from bulwark.toolchain.anvil import Anvil
from bulwark.toolchain.solc import Compiler

pytestmark = pytest.mark.e2e

CASES = load_corpus()


@pytest.fixture(scope="module")
def corpus_node() -> Iterator[Anvil]:
    with Anvil(anvil_options()) as node:
        yield node


@pytest.fixture(scope="module")
def corpus_compiler() -> Iterator[Compiler]:
    with Compiler() as compiler:
        yield compiler


def run_case(node: Anvil, compiler: Compiler, case: Case) -> CaseResult:
    async def go() -> CaseResult:
        async with ChainClient(node.http_url) as client:
            return await CaseRunner(client, compiler, node.accounts).run(case)

    return asyncio.run(go())


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_exploit_works_and_normal_use_works_unpatched(
    corpus_node: Anvil, corpus_compiler: Compiler, case: Case
) -> None:
    result = run_case(corpus_node, corpus_compiler, case)
    assert result.compiled, result.compile_error
    assert result.setup.ok, result.setup.detail
    assert result.exploit.ok, f"the exploit does not work on the unpatched contract: {result.exploit.detail}"
    assert result.functional.ok, f"normal use fails on the unpatched contract: {result.functional.detail}"


def test_a_harmless_contract_defeats_the_exploit(corpus_node: Anvil, corpus_compiler: Compiler) -> None:
    """The harness can say "blocked": the DAO case with withdraw made checks-effects-interactions."""
    case = next(c for c in CASES if c.name == "reentrancy_dao_0424")
    text = case.files["Vulnerable.sol"]
    call = "        if (!msg.sender.call.value(amount)()) {\n            throw;\n        }\n"
    effects = "        balances[msg.sender] -= amount;\n        totalDeposits -= amount;\n"
    assert call in text and effects in text
    fixed = text.replace(call, "@@CALL@@").replace(effects, call).replace("@@CALL@@", effects)
    result = asyncio.run(_run_with(corpus_node, corpus_compiler, case, {"Vulnerable.sol": fixed}))
    assert result.compiled and result.setup.ok
    assert not result.exploit.ok, result.exploit.detail
    assert result.functional.ok, result.functional.detail


def test_a_lockout_breaks_normal_use(corpus_node: Anvil, corpus_compiler: Compiler) -> None:
    """The harness can say "broken": a patch that reverts every withdrawal fails the functional test."""
    case = next(c for c in CASES if c.name == "reentrancy_dao_0424")
    text = case.files["Vulnerable.sol"].replace(
        "require(balances[msg.sender] >= amount);", "require(balances[msg.sender] >= amount && false);"
    )
    result = asyncio.run(_run_with(corpus_node, corpus_compiler, case, {"Vulnerable.sol": text}))
    assert result.compiled and result.setup.ok
    assert not result.exploit.ok
    assert not result.functional.ok


async def _run_with(node: Anvil, compiler: Compiler, case: Case, sources: dict[str, str]) -> CaseResult:
    async with ChainClient(node.http_url) as client:
        return await CaseRunner(client, compiler, node.accounts).run(case, sources)
