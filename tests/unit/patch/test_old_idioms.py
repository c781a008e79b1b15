"""Localisation and fixes for shapes written in older idioms (issue 18's held-out set is solc
0.4-0.5): a payment flag kept but only logged, a paying branch that skips its sibling's debit, a
lock that must run ahead of a modifier making the call, a seat any caller takes over."""

from __future__ import annotations

from bulwark.domain import VulnClass
from bulwark.patch import PatchRequest, generate, locate
from bulwark.toolchain.solc import Compiler

from .conftest import HERE

CONTRACTS = HERE / "contracts" / "classes"


def _found(compiler: Compiler, name: str) -> dict[tuple[VulnClass, str | None], tuple[float, str]]:
    found = locate(PatchRequest(paths=[CONTRACTS / name], use_slither=False), compiler=compiler)
    return {(f.vuln_class, f.function): (f.score, f.detector) for f in found}


def _first(compiler: Compiler, name: str, function: str, template: str) -> str:
    patches = generate(PatchRequest(paths=[CONTRACTS / name], use_slither=False), compiler=compiler)
    patch = next(p for p in patches if p.function == function and template in p.template.split("+"))
    return next(iter(patch.patched_sources.values()))


def test_a_payment_flag_only_logged_is_unchecked_and_its_booking_is_undone(compiler: Compiler) -> None:
    found = _found(compiler, "KeptFlags.sol")
    assert (VulnClass.UNCHECKED_RETURN, "payLogged") in found
    # a flag that decides what happens next (an if, a require) is a checked result
    assert (VulnClass.UNCHECKED_RETURN, "payTested") not in found
    assert (VulnClass.UNCHECKED_RETURN, "payRequired") not in found
    patches = generate(
        PatchRequest(paths=[CONTRACTS / "KeptFlags.sol"], use_slither=False), compiler=compiler
    )
    first = next(p for p in patches if p.function == "payLogged")
    assert first.template == "check-call-result"
    text = next(iter(first.patched_sources.values()))
    # only what booked the payment against the recipient is put back, not the round counter
    assert "uint256 bulwarkWas" in text and "if (!ok) { owed[to] = bulwarkWas" in text
    assert "rounds = " not in text
    assert "require(ok);\n        emit Paid" not in text


def test_a_paying_branch_that_skips_its_siblings_debit_gets_it(compiler: Compiler) -> None:
    found = _found(compiler, "Branches.sol")
    score, detector = found[(VulnClass.INVARIANT_BREAK, "withdrawForgets")]
    assert detector.startswith("branch-skips-debit") and score >= 0.75
    assert (VulnClass.INVARIANT_BREAK, "withdrawBoth") not in found
    # the only debit uses a local of its own branch: nothing to copy as written
    assert (VulnClass.INVARIANT_BREAK, "withdrawLocal") not in found
    text = _first(compiler, "Branches.sol", "withdrawForgets", "sibling-check")
    assert (
        "} else {\n            bal[msg.sender] -= amount;\n            msg.sender.transfer(amount / 2);"
        in text
    )


def test_a_seat_its_callers_take_over_outranks_checked_math(compiler: Compiler) -> None:
    found = _found(compiler, "Seats.sol")
    dos, _ = found[(VulnClass.DOS, "take")]
    math, _ = found[(VulnClass.INTEGER_OVERFLOW, "take")]
    assert dos > math
    # a payee only the owner sets cannot be taken over by an attacker
    assert (VulnClass.DOS, "payOut") not in found
    patches = generate(PatchRequest(paths=[CONTRACTS / "Seats.sol"], use_slither=False), compiler=compiler)
    assert patches[0].function == "take" and "pay-or-credit" in patches[0].template.split("+")


def test_the_lock_runs_before_a_modifier_that_makes_the_call(compiler: Compiler) -> None:
    text = _first(compiler, "Rebates.sol", "claim", "reentrancy-lock")
    assert "function claim() external bulwarkNonReentrant settles {" in text
    assert "function stake() external payable bulwarkNonReentrant settles {" in text


def test_a_var_loop_counter_narrower_than_its_bound_is_widened(compiler: Compiler) -> None:
    found = locate(PatchRequest(paths=[CONTRACTS / "Counters.sol"], use_slither=False), compiler=compiler)
    narrow = {f.function for f in found if "narrow-loop-counter" in f.detector}
    # `var i = 0` is a uint8 against a uint256 length; a typed counter, or a uint8 bound, is not this
    assert narrow == {"award"}
    text = _first(compiler, "Counters.sol", "award", "widen-loop-counter")
    assert "for (uint256 i = 0; i < members.length; i++) {\n            points[members[i]] += each;" in text
    assert "for (var i = 0; i < count; i++)" in text


def test_a_result_dropped_inside_a_modifier_is_checked_there(compiler: Compiler) -> None:
    found = _found(compiler, "Fees.sol")
    assert (VulnClass.UNCHECKED_RETURN, "forwardsFee") in found
    patches = generate(PatchRequest(paths=[CONTRACTS / "Fees.sol"], use_slither=False), compiler=compiler)
    assert "check-call-result" in patches[0].template.split("+")
    assert "require(feeWallet.call.value(fee)());" in next(iter(patches[0].patched_sources.values()))


def test_a_payment_helper_that_a_batch_calls_leaves_a_failure_owed(compiler: Compiler) -> None:
    # payAll runs it per member: a revert there would let one member stop everyone's payment
    request = PatchRequest(paths=[CONTRACTS / "SharedPay.sol"], use_slither=False)
    first = next(p for p in generate(request, compiler=compiler) if p.function == "_pay")
    text = next(iter(first.patched_sources.values()))
    assert "if (!bulwarkOk" in text and "owed[to] = bulwarkWas" in text
    assert "require(bulwarkOk" not in text


def test_clearing_a_list_anyone_grows_is_a_loop_over_it(compiler: Compiler) -> None:
    found = _found(compiler, "Clears.sol")
    assert (VulnClass.DOS, "newRound") in found  # delete zeroes every entry anyone added
    assert (VulnClass.DOS, "dismissAll") not in found  # only the owner grows staff
    text = _first(compiler, "Clears.sol", "newRound", "bounded-growth")
    assert 'require(entrants.length < 1000, "Bulwark: entrants is full");\n        entrants.push' in text
    assert "staff.length <" not in text


def test_a_bare_payout_of_a_chosen_amount_to_a_chosen_address_is_guarded(compiler: Compiler) -> None:
    found = _found(compiler, "Executor.sol")
    assert (VulnClass.ACCESS_CONTROL, "execute") in found
    text = _first(compiler, "Executor.sol", "execute", "access-control-guard")
    assert "require(msg.sender == owner" in text.split("function execute")[1].split("function owe")[0]


def test_a_function_sharing_the_contracts_name_is_a_constructor_only_if_it_initialises(
    compiler: Compiler,
) -> None:
    found = locate(PatchRequest(paths=[CONTRACTS / "Multisend.sol"], use_slither=False), compiler=compiler)
    misnamed = {(f.contract, f.function) for f in found if "misnamed-constructor" in f.detector}
    assert misnamed == {("Vault", "vault")}  # it takes ownership; multisend does the contract's business


def test_arithmetic_that_cannot_wrap_is_not_an_overflow_finding(compiler: Compiler) -> None:
    found = _found(compiler, "SafeOps.sol")
    overflow = {fn for (cls, fn) in found if cls is VulnClass.INTEGER_OVERFLOW}
    # msg.value sums fit in 2**88; subtractions after a require (or an if-throw) of the same bound
    assert not overflow & {"deposit", "withdraw", "withdrawOld"}
    # an unguarded debit, and a comparison that only picks a branch, still count
    assert {"give", "branchOnly"} <= overflow
    priced = {fn for (cls, fn) in _found(compiler, "SafeOps.sol") if cls is VulnClass.INTEGER_OVERFLOW}
    assert "buy" not in priced  # msg.value * 100 needs under 100 bits
    assert "buyMany" in priced  # count * 1 ether wraps for a huge count


def test_a_debit_for_another_account_must_spend_its_allowance(compiler: Compiler) -> None:
    found = _found(compiler, "Allowances.sol")
    assert found[(VulnClass.INVARIANT_BREAK, "moveFrom")][1].startswith("unconsumed-allowance")
    assert (VulnClass.INVARIANT_BREAK, "spendFrom") not in found  # it checks and spends the allowance
    text = _first(compiler, "Allowances.sol", "moveFrom", "sibling-check")
    assert (
        'require(allowed[from][msg.sender] >= value, "Bulwark: allowance too low");\n'
        "        allowed[from][msg.sender] -= value;\n"
        "        balances[from] = balances[from] - value;"
    ) in text
