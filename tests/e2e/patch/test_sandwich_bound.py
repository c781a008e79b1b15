"""The bounded-move fix for sandwichable trades, on a real anvil.

* On the public benchmark's sandwich cases (a constant-product pool, a ledger pair, a tranche sale),
  the engine's first patch is the bounded-move fix; the sandwich no longer works and normal use
  does (the case's own functional test).
* The bound is per block: two trades of 3% each fit one after another in separate blocks, but
  in one block the second one would move the market 6% and reverts, whichever is mined first (a
  front-run split into several transactions of one block does not pass). The unpatched pool
  takes both: the test can fail.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest
from tests.support.patchcase import (
    BENCH_ROOT,
    CaseRunner,
    PatchOutcome,
    anvil_options,
    evaluate_patch,
    generate_one,
    load_case,
)

from bulwark.chain import ChainClient, TxRequest
from bulwark.chain.abi import encode_call
from bulwark.domain.chain import Address
from bulwark.toolchain.anvil import Anvil
from bulwark.toolchain.solc import Compiler

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(300)]

CASES = ("frontrun_swap_0819", "frontrun_ledger_pair_0612", "frontrun_tranche_sale_0517")
ETHER = 10**18
GAS = 500_000


@pytest.fixture(scope="module")
def node() -> Iterator[Anvil]:
    with Anvil(anvil_options()) as n:
        yield n


@pytest.fixture(scope="module")
def compiler() -> Iterator[Compiler]:
    with Compiler() as c:
        yield c


@pytest.mark.parametrize("name", CASES)
def test_the_sandwich_is_stopped_and_normal_trading_kept(node: Anvil, compiler: Compiler, name: str) -> None:
    case = load_case(BENCH_ROOT / name)

    async def go() -> PatchOutcome:
        async with ChainClient(node.http_url) as client:
            return await evaluate_patch(case, CaseRunner(client, compiler, node.accounts), compiler)

    outcome = asyncio.run(go())
    assert outcome.template == "bounded-move", outcome.why()
    assert outcome.fixed and not outcome.broken, outcome.why()


def _same_block_then_next(node: Anvil, compiler: Compiler, sources: dict[str, str]) -> tuple[list[int], int]:
    """Deploy MiniSwap (100 ether of reserve), then two 3-ether buys in one block and one more in the
    next: (statuses of the same-block pair, status of the next block's buy)."""
    build = compiler.compile_sources(sources, version="0.8.19", outputs="minimal")
    art = next(c for c in build.contracts if c.name == "MiniSwap")
    deployer, alice, bob, carol = (a.address for a in node.accounts[:4])
    buy = encode_call(art.abi, "buy")

    def tx(to: Address) -> TxRequest:
        return TxRequest(
            to=to, data=buy, value=3 * ETHER, gas=GAS, max_fee_per_gas=0, max_priority_fee_per_gas=0
        )

    async def go() -> tuple[list[int], int]:
        async with ChainClient(node.http_url) as client:
            top = await client.snapshot()
            try:
                pool = await client.deploy(
                    art.abi, art.bytecode, 100_000 * ETHER, sender=deployer, value=100 * ETHER
                )
                await client.set_automine(False)
                try:
                    hashes = [await client.send_transaction(tx(pool), sender=who) for who in (alice, bob)]
                    await client.mine(1)
                    pair = [await client.wait_for_receipt(h) for h in hashes]
                finally:
                    await client.set_automine(True)
                assert pair[0].block_number == pair[1].block_number
                later = await client.transact(tx(pool), sender=carol, check=False)
                return sorted(int(r.status) for r in pair), int(later.status)
            finally:
                await client.revert(top)

    return asyncio.run(go())


def test_the_bound_is_per_block(node: Anvil, compiler: Compiler) -> None:
    case = load_case(BENCH_ROOT / "frontrun_swap_0819")
    gen = generate_one(case, compiler)
    assert gen.template == "bounded-move" and gen.patched_sources is not None, gen.error
    original = _same_block_then_next(node, compiler, case.victim_sources)
    assert original == ([1, 1], 1)
    patched = _same_block_then_next(node, compiler, {**case.victim_sources, **gen.patched_sources})
    # one of the pair reverts (the market would move 6% in the block); the next block starts afresh
    assert patched == ([0, 1], 1)
