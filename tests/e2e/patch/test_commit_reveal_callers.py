"""A commit-reveal patch changes how callers call, and says so; honest users who follow it win, a
copier of their reveal does not (real anvil, real solcjs).

The contract is a scavenger hunt written for this test: ``find(round, clue, word)`` pays whoever is
mined first with the (clue, word) pair whose hash the contract keeps, so a copy of the finder's
pending call with a higher tip takes the pot. The patch makes ``find`` require a commitment of
keccak256(abi.encodePacked(caller, clue, word)) made in an earlier block, and declares it as a
caller change (the round is not part of the secret, so not of the preimage).
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from eth_utils.crypto import keccak
from tests.support.patchcase import (
    Case,
    CaseResult,
    CaseRunner,
    Generated,
    PatchOutcome,
    anvil_options,
    evaluate_generated,
    generate_one,
    load_case,
)

from bulwark.chain import ChainClient, TxRequest
from bulwark.chain.abi import decode_result, encode_call, encode_deploy
from bulwark.domain.chain import Address
from bulwark.domain.patch import CallerChange
from bulwark.patch.callers import first_call
from bulwark.toolchain.anvil import Anvil
from bulwark.toolchain.solc import Compiler

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(300)]

ETHER = 10**18
GAS = 1_000_000
ROUND, CLUE, WORD = 2, 7, "lantern"
SOLUTION = "0x" + keccak(CLUE.to_bytes(2, "big") + WORD.encode()).hex()

SOURCE = """pragma solidity 0.8.19;

/// A scavenger hunt: each round hides a clue number and a word; the first finder of both takes the pot.
contract ScavengerHunt {
    uint8 public round;
    bytes32 public solution;
    address public finder;

    constructor(uint8 _round, bytes32 _solution) payable {
        round = _round;
        solution = _solution;
    }

    function fund() external payable {
        require(finder == address(0), "found");
    }

    function find(uint8 forRound, uint16 clue, string calldata word) external {
        require(forRound == round, "other round");
        require(finder == address(0), "found");
        require(keccak256(abi.encodePacked(clue, word)) == solution, "wrong");
        finder = msg.sender;
        payable(msg.sender).transfer(address(this).balance);
    }
}
"""

CASE_YAML = f"""class: front-running
solc: 0.8.19
contract: ScavengerHunt
description: >
  find() takes the clue and the word in calldata and pays whoever is mined first; the attacker
  copies alice's pending find with a higher tip.
setup:
  - deploy: {{contract: ScavengerHunt, as: victim, value: "3 ether", args: [{ROUND}, "{SOLUTION}"]}}
exploit:
  - call: {{to: victim, fn: find, args: [{ROUND}, {CLUE}, "{WORD}"], from: attacker}}
  - call: {{to: victim, fn: find, args: [{ROUND}, {CLUE}, "{WORD}"], from: alice, expect: any}}
exploit_succeeds:
  - {{balance_delta: $attacker, eq: "3 ether"}}
functional:
  - call: {{to: victim, fn: fund, from: bob, value: "1 ether"}}
  - call: {{to: victim, fn: find, args: [{ROUND}, {CLUE + 1}, "{WORD}"], from: bob, expect: revert}}
  - call: {{to: victim, fn: find, args: [{ROUND}, {CLUE}, "{WORD}"], from: alice}}
  - call: {{to: victim, fn: find, args: [{ROUND}, {CLUE}, "{WORD}"], from: carol, expect: revert}}
functional_expect:
  - {{balance_delta: $alice, eq: "4 ether"}}
  - {{call: [victim, finder], eq: $alice}}
"""


@pytest.fixture(scope="module")
def case(tmp_path_factory: pytest.TempPathFactory) -> Case:
    folder = tmp_path_factory.mktemp("commit_reveal") / "frontrun_scavenger_hunt_0819"
    folder.mkdir()
    (folder / "Vulnerable.sol").write_text(SOURCE)
    (folder / "case.yaml").write_text(CASE_YAML)
    return load_case(folder)


@pytest.fixture(scope="module")
def node() -> Iterator[Anvil]:
    with Anvil(anvil_options()) as n:
        yield n


@pytest.fixture(scope="module")
def compiler() -> Iterator[Compiler]:
    with Compiler() as c:
        yield c


@pytest.fixture(scope="module")
def generated(case: Case, compiler: Compiler) -> Generated:
    return generate_one(case, compiler)


def _changes(gen: Generated) -> list[CallerChange]:
    return [CallerChange.from_json(c) for c in gen.caller_changes]


def test_the_patch_is_a_commit_reveal_that_declares_the_commit(generated: Generated) -> None:
    assert "commit-reveal" in generated.template.split("+"), generated.error
    (change,) = _changes(generated)
    assert (change.contract, change.function, change.first) == (
        "ScavengerHunt",
        "find(uint8,uint16,string)",
        "bulwarkCommit(bytes32)",
    )
    # the caller, then the two hashed arguments (not the round), each with the type it is packed as
    assert [(p.name, p.type, p.arg) for p in change.preimage] == [
        ("caller", "address", None),
        ("clue", "uint16", 1),
        ("word", "string", 2),
    ]
    assert change.blocks_before == 1


def test_honest_users_following_the_report_pass_and_the_copied_reveal_fails(
    case: Case, generated: Generated, node: Anvil, compiler: Compiler
) -> None:
    assert generated.patched_sources is not None, generated.error
    patched = {**case.victim_sources, **generated.patched_sources}

    async def go() -> tuple[CaseResult, PatchOutcome, CaseResult]:
        async with ChainClient(node.http_url) as client:
            runner = CaseRunner(client, compiler, node.accounts)
            original = await runner.run(case)
            outcome = await evaluate_generated(case, generated, runner)
            ignoring = await runner.run(case, patched)  # users who never read the report
            return original, outcome, ignoring

    original, outcome, ignoring = asyncio.run(go())
    # the original is exploitable and works: the checks below can fail
    assert original.exploit.ok and original.functional_ok, original.summary()
    assert outcome.fixed, outcome.why()  # the copier never committed: its reveal reverts
    assert not outcome.broken, outcome.why()  # alice committed first, as the patch report says
    assert outcome.result is not None and "commit the answer first" in outcome.result.exploit.detail
    # without the declared commit, normal use cannot pass on the patched contract
    assert not ignoring.functional.ok and "commit the answer first" in ignoring.functional.detail


def test_on_chain_a_reveal_needs_a_commitment_from_an_earlier_block(
    case: Case, generated: Generated, node: Anvil, compiler: Compiler
) -> None:
    assert generated.patched_sources is not None, generated.error
    build = compiler.compile_sources(
        {**case.victim_sources, **generated.patched_sources}, version=case.solc, outputs="minimal"
    )
    art = build.contract("ScavengerHunt")
    (change,) = _changes(generated)
    deployer, alice, carol, attacker = (node.accounts[i].address for i in (0, 1, 3, 4))
    args = [ROUND, CLUE, WORD]
    reveal = encode_call(art.abi, "find", *args)

    def tx(to: Address | None, data: bytes, value: int = 0) -> TxRequest:
        return TxRequest(
            to=to, data=data, value=value, gas=GAS, max_fee_per_gas=0, max_priority_fee_per_gas=0
        )

    async def go() -> dict[str, object]:
        async with ChainClient(node.http_url) as client:
            top = await client.snapshot()
            try:
                code = encode_deploy(art.abi, art.bytecode, ROUND, bytes.fromhex(SOLUTION[2:]))
                made = await client.transact(tx(None, code, 3 * ETHER), sender=deployer)
                hunt = made.contract_address
                assert hunt is not None
                out: dict[str, object] = {}
                # a plain reveal, never committed
                out["plain"] = (await client.transact(tx(hunt, reveal), sender=alice, check=False)).status
                # commit and reveal in one block: the commitment is not from an earlier block
                await client.set_automine(False)
                try:
                    await client.send_transaction(tx(hunt, first_call(change, carol, args)), sender=carol)
                    same = await client.send_transaction(tx(hunt, reveal), sender=carol)
                    await client.mine(1)
                    receipt = await client.wait_for_receipt(same)
                    out["same_block"] = receipt.status
                finally:
                    await client.set_automine(True)
                # alice commits, a block passes; a copier who never committed cannot use her reveal
                await client.transact(tx(hunt, first_call(change, alice, args)), sender=alice)
                await client.mine(change.blocks_before)
                out["copier"] = (await client.transact(tx(hunt, reveal), sender=attacker, check=False)).status
                before = await client.get_balance(alice)
                out["alice"] = (await client.transact(tx(hunt, reveal), sender=alice, check=False)).status
                out["paid"] = await client.get_balance(alice) - before
                found = await client.call(tx(hunt, encode_call(art.abi, "finder")))
                out["finder"] = decode_result(art.abi, "finder", found)
                return out
            finally:
                await client.revert(top)

    out = asyncio.run(go())
    assert out["plain"] == 0
    assert out["same_block"] == 0
    assert out["copier"] == 0
    assert out["alice"] == 1 and out["paid"] == 3 * ETHER
    assert str(out["finder"]).lower() == alice.lower()


def test_the_json_report_lists_the_caller_changes(tmp_path: Path) -> None:
    source = tmp_path / "ScavengerHunt.sol"
    source.write_text(SOURCE)
    proc = subprocess.run(
        [sys.executable, "-m", "bulwark.cli.main", "patch", str(source), "--json", "--no-slither"],
        capture_output=True,
        text=True,
        check=False,
        cwd=tmp_path,
    )
    assert proc.returncode == 0, proc.stderr
    best = json.loads(proc.stdout)["patches"][0]
    assert best["template"] == "commit-reveal"
    (change,) = best["caller_changes"]
    assert change["function"] == "find(uint8,uint16,string)"
    assert change["first"] == "bulwarkCommit(bytes32)"
    assert change["argument"] == "keccak256(abi.encodePacked(caller, clue, word))"
    assert change["preimage"] == ["caller", "clue", "word"]
    assert change["preimage_types"] == ["address", "uint16", "string"]
    assert change["preimage_args"] == [None, 1, 2]
    assert change["blocks_before"] == 1 and change["text"]
