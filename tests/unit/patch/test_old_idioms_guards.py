"""Old-idiom shapes of issue 18's held-out classes where a name or an alias hid the flaw: a time
guard called ``unlocked`` taken for a re-entrancy lock, a struct cleared through a storage pointer
after the call not seen as a write, a comparison of the caller with an argument taken for an
access check, and a seat kept in a struct of a mapping, written through a storage pointer, not seen
as one its callers take over."""

from __future__ import annotations

from bulwark.domain import VulnClass
from bulwark.domain.patch import Patch
from bulwark.patch import PatchRequest, generate, locate
from bulwark.toolchain.solc import Compiler

from .conftest import HERE

CONTRACTS = HERE / "contracts" / "classes"


def _found(compiler: Compiler, name: str) -> dict[tuple[str, VulnClass, str | None], float]:
    found = locate(PatchRequest(paths=[CONTRACTS / name], use_slither=False), compiler=compiler)
    return {(f.contract, f.vuln_class, f.function): f.score for f in found}


def _patches(compiler: Compiler, name: str, contract: str | None = None) -> list[Patch]:
    request = PatchRequest(paths=[CONTRACTS / name], use_slither=False, contract=contract)
    return generate(request, compiler=compiler)


def test_a_lock_is_what_a_modifier_does_not_what_it_is_called(compiler: Compiler) -> None:
    found = _found(compiler, "TimeLocks.sol")
    # `unlocked` checks a time: the re-entered function is still open, and the fix locks it
    assert ("TimeGuarded", VulnClass.REENTRANCY, "collect") in found
    # a flag set before `_` and cleared after it is a mutex, in a state variable or in assembly
    # (solc 0.4 keeps the block as text) behind private helpers
    assert ("FlagGuarded", VulnClass.REENTRANCY, "withdraw") not in found
    assert ("SlotGuarded", VulnClass.REENTRANCY, "withdraw") not in found
    patch = next(p for p in _patches(compiler, "TimeLocks.sol", "TimeGuarded") if p.function == "collect")
    text = next(iter(patch.patched_sources.values()))
    assert "function collect(uint amount) public bulwarkNonReentrant unlocked {" in text


def test_a_struct_cleared_through_its_pointer_after_the_call_is_reentrancy(compiler: Compiler) -> None:
    # leave() writes nothing after its call but `m.balance = 0` through `Member storage m`
    found = _found(compiler, "GiftClub.sol")
    assert found[("GiftClub", VulnClass.REENTRANCY, "leave")] >= 0.75
    # gift makes no external call: sharing the balances makes it a way back in, not a finding
    assert ("GiftClub", VulnClass.REENTRANCY, "gift") not in found


def test_comparing_the_caller_with_an_argument_guards_nothing(compiler: Compiler) -> None:
    patches = _patches(compiler, "GiftClub.sol")
    first = patches[0]
    assert first.function == "leave" and "reentrancy-lock" in first.template.split("+")
    text = next(iter(first.patched_sources.values()))
    # `friend != msg.sender` lets every caller in: gift shares the balances and takes the lock
    assert "function gift(address friend, uint256 amount) public bulwarkNonReentrant {" in text
    assert "function leave() public bulwarkNonReentrant {" in text
    # `msg.sender == owner` is an access check: the owner is not the attacker's way back in
    assert "function takeFees() public {" in text


def test_a_seat_in_a_struct_of_a_mapping_is_taken_over_through_its_pointer(compiler: Compiler) -> None:
    found = _found(compiler, "SlotBoard.sol")
    assert ("SlotBoard", VulnClass.REENTRANCY, "take") in found
    # as sure as a loop, and strong enough to be fixed with the lock the same value call earns:
    # a lock alone would leave the seat blocked
    assert found[("SlotBoard", VulnClass.DOS, "take")] >= 0.7
    first = _patches(compiler, "SlotBoard.sol")[0]
    assert first.function == "take"
    assert {"pay-or-credit", "reentrancy-lock"} <= set(first.template.split("+"))


def test_a_gate_any_caller_signs_up_for_is_a_way_back_in(compiler: Compiler) -> None:
    patches = _patches(compiler, "SignUp.sol")
    locked = next(p for p in patches if "reentrancy-lock" in p.template.split("+"))
    text = next(iter(locked.patched_sources.values()))
    assert "function withdraw() public bulwarkNonReentrant {" in text
    # `registered[msg.sender]` is set by register() for whoever calls it: the attacker signs up
    assert "function transfer(address to, uint amount) public bulwarkNonReentrant {" in text
    # `msg.sender == owner` is still an access check
    assert "function bonus(address to, uint amount) public {" in text


def test_a_helper_that_hands_back_a_calls_flag_is_checked_at_its_caller(compiler: Compiler) -> None:
    found = _found(compiler, "PayHelpers.sol")
    assert ("PayHelpers", VulnClass.UNCHECKED_RETURN, "claim") in found
    assert ("PayHelpers", VulnClass.UNCHECKED_RETURN, "payAll") in found
    # a helper that requires the flag itself leaves nothing for its caller to check
    assert ("PayHelpers", VulnClass.UNCHECKED_RETURN, "claimChecked") not in found
    patches = _patches(compiler, "PayHelpers.sol")
    text = next(iter(next(p for p in patches if "check-call-result" in p.template).patched_sources.values()))
    # a single payment the function relies on reverts; in a batch the element stays owed
    assert "require(_pay(who, v));" in text
    assert "if (!_pay(m, v)) { owed[m] = bulwarkWas" in text


def test_every_dropped_result_in_the_function_is_checked_not_only_the_located_one(
    compiler: Compiler,
) -> None:
    patches = _patches(compiler, "TwoSends.sol")
    first = next(p for p in patches if p.function == "close" and "check-call-result" in p.template)
    text = next(iter(first.patched_sources.values()))
    assert "require(house.send(this.balance / 10));" in text
    assert "require(winner.send(this.balance));" in text


def test_a_cap_on_growth_behind_an_unbraced_if_stays_inside_the_branch(compiler: Compiler) -> None:
    patches = _patches(compiler, "UnbracedGrowth.sol")
    capped = next(p for p in patches if "bounded-growth" in p.template.split("+"))
    text = next(iter(capped.patched_sources.values()))
    # a check put before the growth would end the if there and grow the array on every call
    assert "            if (count == entries.length) { require(entries.length < " in text
    assert 'entries is full"); entries.length += 1; }' in text
