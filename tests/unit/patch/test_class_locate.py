"""Localisation refinements for the classes issue 18 adds: what is and is not a flaw."""

from __future__ import annotations

from bulwark.domain import VulnClass
from bulwark.domain.patch import Patch
from bulwark.patch import PatchRequest, generate, locate
from bulwark.toolchain.solc import Compiler

from .conftest import HERE

CONTRACTS = HERE / "contracts" / "classes"


def _findings(compiler: Compiler, name: str) -> dict[tuple[VulnClass, str | None], float]:
    found = locate(PatchRequest(paths=[CONTRACTS / name], use_slither=False), compiler=compiler)
    return {(f.vuln_class, f.function): f.score for f in found}


def test_state_anyone_may_set_is_not_privileged(compiler: Compiler) -> None:
    found = _findings(compiler, "OpenList.sol")
    # anyone appends any value to tiers: editing one is not a privileged write, whatever its name
    assert (VulnClass.ACCESS_CONTROL, "updateTier") not in found
    # the treasury is otherwise set only by the owner: still a finding
    assert (VulnClass.ACCESS_CONTROL, "updateTreasury") in found


def _templates(compiler: Compiler, name: str) -> dict[tuple[str, str | None], Patch]:
    patches = generate(PatchRequest(paths=[CONTRACTS / name], use_slither=False), compiler=compiler)
    out: dict[tuple[str, str | None], Patch] = {}
    for p in patches:
        out.setdefault((p.template, p.function), p)
    return out


def test_a_loop_over_a_list_anyone_grows_is_capped_and_a_strict_balance_relaxed(compiler: Compiler) -> None:
    found = _findings(compiler, "Crowd.sol")
    assert (VulnClass.DOS, "distribute") in found  # members grows through join()
    assert (VulnClass.DOS, "withdraw") in found  # balance == booked: forced ether blocks it
    patches = _templates(compiler, "Crowd.sol")
    capped = patches[("bounded-growth", "distribute")].patched_sources["contracts/classes/Crowd.sol"]
    # one fresh write, a few reads and a division per member: 5M gas of loop holds 163
    assert 'require(members.length < 163, "Bulwark: members is full");\n        members.push' in capped
    relaxed = patches[("balance-at-least", "withdraw")].patched_sources["contracts/classes/Crowd.sol"]
    assert 'require(address(this).balance >= booked, "books");' in relaxed


def test_refunds_through_a_local_copy_and_keeper_batches_are_push_payment_dos(compiler: Compiler) -> None:
    found = _findings(compiler, "Bids.sol")
    # previous is a copy of leader, which any bidder sets: the refund to it can be refused
    assert (VulnClass.DOS, "bid") in found
    # a keeper picks when the queue is paid, not who is in it: one refusing member blocks the rest
    assert (VulnClass.DOS, "pay") in found
    # the page size already bounds the loop over the queue
    raw = locate(PatchRequest(paths=[CONTRACTS / "Bids.sol"], use_slither=False), compiler=compiler)
    assert not [f for f in raw if f.function == "pay" and "unbounded-loop" in f.detector]
    patches = _templates(compiler, "Bids.sol")
    bid = patches[("pay-or-credit", "bid")].patched_sources["contracts/classes/Bids.sol"]
    assert "(bool ok, ) = _bulwarkCallOrCredit(previous, refund);" in bid
    pay = patches[("pay-or-credit", "pay")].patched_sources["contracts/classes/Bids.sol"]
    assert "_bulwarkSendOrCredit(queue[next], 1 ether);" in pay


def test_a_failed_call_is_handled_as_the_surrounding_code_intends(compiler: Compiler) -> None:
    patches = generate(PatchRequest(paths=[CONTRACTS / "Batches.sol"], use_slither=False), compiler=compiler)
    first: dict[str | None, Patch] = {}
    for p in patches:
        if p.template == "check-call-result":
            first.setdefault(p.function, p)
    path = "contracts/classes/Batches.sol"
    # a batch with bookkeeping: the element's bookkeeping is put back (it stays owed), the loop goes on
    undo = first["payAll"].patched_sources[path]
    assert "uint256 bulwarkWas" in undo and "= owed[payee];" in undo
    assert "if (!payee.send(amount)) { paidOut = bulwarkWas" in undo
    assert "require(payee.send(amount))" not in undo
    # a batch without bookkeeping: the unpaid amount is credited to its recipient (pull payment)
    credit = first["spray"].patched_sources[path]
    assert "if (!to[i].send(each)) { _bulwarkCredit(address(to[i]), each); }" in credit
    assert "function bulwarkWithdrawPending() external" in credit
    # one payment the function promises: a failure reverts it
    assert "require(msg.sender.send(amount));" in first["withdraw"].patched_sources[path]


def _first(compiler: Compiler, name: str, template: str) -> str:
    patches = generate(PatchRequest(paths=[CONTRACTS / name], use_slither=False), compiler=compiler)
    found = [p for p in patches if p.template == template]
    assert found, f"no {template} patch among {[p.template for p in patches]}"
    return found[0].patched_sources[f"contracts/classes/{name}"]


def test_a_record_of_an_action_that_nothing_reads_becomes_its_check(compiler: Compiler) -> None:
    text = _first(compiler, "Poll.sol", "missing-check")
    check = 'require(!backed[msg.sender], "Bulwark: already done");'
    assert f"{check}\n        backed[msg.sender] = true;" in text


def test_a_payout_that_changes_no_state_pays_each_record_once(compiler: Compiler) -> None:
    text = _first(compiler, "Coupons.sol", "missing-check")
    assert "require(_bulwarkFirstPayout(keccak256(abi.encode(uint256(" in text
    assert '), id))), "Bulwark: already paid");\n        c.holder.transfer(amount);' in text


def test_a_record_its_siblings_guard_by_owner_is_taken_only_while_free(compiler: Compiler) -> None:
    text = _first(compiler, "Handles.sol", "missing-check")
    expected = (
        "require(handles[name].owner == address(0) || handles[name].owner == msg.sender, "
        '"Bulwark: taken");\n        handles[name] = Handle(msg.sender, target);'
    )
    assert expected in text


def test_a_two_step_handover_is_completed_only_by_the_chosen_account(compiler: Compiler) -> None:
    patches = generate(PatchRequest(paths=[CONTRACTS / "Handover.sol"], use_slither=False), compiler=compiler)
    first = next(p for p in patches if p.function == "takeOver")
    text = first.patched_sources["contracts/classes/Handover.sol"]
    # the successor the keeper chose, not the keeper (who could never hand over then)
    assert 'require(msg.sender == successor);\n        require(successor != address(0), "none");' in text


def test_a_stored_block_hash_is_used_only_while_the_evm_holds_it(compiler: Compiler) -> None:
    text = _first(compiler, "Draw.sol", "blockhash-in-reach")
    expected = 'require(blockhash(target) != bytes32(0), "Bulwark: block hash out of reach");\n        if ('
    assert expected in text


def test_a_public_payment_step_is_guarded_and_its_callers_keep_the_body(compiler: Compiler) -> None:
    found = _findings(compiler, "Helper.sol")
    assert (VulnClass.ACCESS_CONTROL, "send") in found
    text = _first(compiler, "Helper.sol", "access-control-guard")
    # the public face is guarded; withdraw (a user action) still pays through the unguarded body
    assert "function send(address payable to, uint256 amount) public onlyAdmin {" in text
    assert "_bulwark_send(payable(msg.sender), amount);" in text
    assert "function _bulwark_send(address payable to, uint256 amount) internal {" in text


def test_crediting_a_chosen_balance_for_nothing_is_a_privileged_write(compiler: Compiler) -> None:
    found = _findings(compiler, "Points.sol")
    assert (VulnClass.ACCESS_CONTROL, "grant") in found
    assert (VulnClass.ACCESS_CONTROL, "buy") not in found  # paid for
    assert (VulnClass.ACCESS_CONTROL, "spend") not in found  # debits the caller
    text = _first(compiler, "Points.sol", "access-control-guard")
    assert "function grant(address to, uint256 amount) external onlyManager {" in text


def test_a_batch_skips_an_entry_that_fails_its_check_when_that_is_safe(compiler: Compiler) -> None:
    raw = locate(PatchRequest(paths=[CONTRACTS / "Claims.sol"], use_slither=False), compiler=compiler)
    flagged = {f.function for f in raw if "batch-element-require" in f.detector}
    # payAllInOrder advances i after the check: skipping the rest of the body would spin on the entry
    assert flagged == {"payPage"}
    text = _first(compiler, "Claims.sol", "skip-bad-entry")
    assert "if (!(c.amount > 0)) continue;" in text
    # the refusing recipient is the other way one entry stops the page: credited in the same patch
    assert "_bulwarkSendOrCredit(c.to, c.amount);" in text


def test_near_misses_of_the_sibling_clock_and_reprice_checks_are_not_flaws(compiler: Compiler) -> None:
    raw = locate(PatchRequest(paths=[CONTRACTS / "NearMisses.sol"], use_slither=False), compiler=compiler)
    detectors = {d for f in raw for d in f.detector.split("+")}
    # a deadline from a parameter, caches of two mappings, payouts that both check the outcome, and
    # an owner's rate used only to quote
    new = {
        "timestamp-span",
        "stale-cached-entry",
        "sibling-payout-flag",
        "inverse-path-condition",
        "reprice-ahead",
    }
    assert not detectors & new, sorted(detectors & new)
