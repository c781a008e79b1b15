"""Fix strategies judged by behaviour: each case under ``cases/`` is a contract we wrote, with an
exploit and a test of its intended use. On the original the exploit works and normal use passes;
the engine's first patch must stop the exploit and keep normal use (run on a real anvil).

The cases are chosen so that the obvious one-size fix fails the functional test (a failed payment
in a refund loop made into ``require`` blocks every other refund), so a pass means the engine read
the surrounding code.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.support.patchcase import (
    Case,
    CaseResult,
    CaseRunner,
    PatchOutcome,
    anvil_options,
    evaluate_patch,
    load_corpus,
)

from bulwark.chain import ChainClient
from bulwark.toolchain.anvil import Anvil
from bulwark.toolchain.solc import Compiler

pytestmark = [pytest.mark.timeout(600)]

CASES_ROOT = Path(__file__).parent / "cases"
CASES = load_corpus(CASES_ROOT)
# case -> a template its first patch must come from
TEMPLATES = {
    "unchecked_batch_payout_0424": "check-call-result",
    "unchecked_refund_helper_0819": "check-call-result",
    "storage_write_wishlist_0424": "array-length-guard",
    "frontrun_preimage_bounty_0517": "commit-reveal",
    "frontrun_exchange_rate_0517": "delayed-rate",
    "time_linear_vesting_0612": "timestamp-bounded-clock",
    "logic_points_self_transfer_0819": "sibling-check",
    "logic_bounty_reclaim_0517": "sibling-check",
    "logic_presale_withdraw_0612": "sibling-check",
    "oracle_market_shop_0706": "oracle-steady-balances",
    "reentrancy_modifier_rebate_0819": "reentrancy-lock",
    "unchecked_kept_flag_settle_0612": "check-call-result",
    "dos_leader_refund_0517": "pay-or-credit",
    "logic_branch_debit_0424": "sibling-check",
    "unchecked_book_after_loop_0425": "check-call-result",
    "logic_unconsumed_allowance_0426": "sibling-check",
}


@pytest.fixture(scope="module")
def runs() -> Iterator[dict[str, tuple[CaseResult, PatchOutcome]]]:
    async def go(node: Anvil, compiler: Compiler) -> dict[str, tuple[CaseResult, PatchOutcome]]:
        async with ChainClient(node.http_url) as client:
            runner = CaseRunner(client, compiler, node.accounts)
            out = {}
            for case in CASES:
                original = await runner.run(case)
                out[case.name] = (original, await evaluate_patch(case, runner, compiler))
            return out

    with Anvil(anvil_options()) as node, Compiler() as compiler:
        yield asyncio.run(go(node, compiler))


def test_every_case_has_an_expected_template() -> None:
    assert sorted(TEMPLATES) == sorted(c.name for c in CASES)


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_the_original_is_exploitable_and_works(
    runs: dict[str, tuple[CaseResult, PatchOutcome]], case: Case
) -> None:
    original, _ = runs[case.name]
    assert original.exploit.ok, original.summary()
    assert original.functional_ok, original.summary()


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_the_first_patch_stops_the_exploit_and_keeps_normal_use(
    runs: dict[str, tuple[CaseResult, PatchOutcome]], case: Case
) -> None:
    _, outcome = runs[case.name]
    assert outcome.patched, outcome.why()
    # the expected template is in the first patch (a strong finding of another class may join it)
    assert TEMPLATES[case.name] in outcome.template.split("+"), outcome.why()
    assert outcome.fixed, f"exploit not stopped: {outcome.why()}\n{outcome.diff}"
    assert not outcome.broken, f"normal use broken: {outcome.why()}\n{outcome.diff}"
