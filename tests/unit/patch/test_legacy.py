"""Fixes for contracts pinned to compilers older than the templates' idioms (solc < 0.4.22): the
emitted text is rewritten to forms that compiler accepts, so the candidates compile."""

from __future__ import annotations

from bulwark.patch import PatchRequest, generate
from bulwark.patch.legacy import downlevel
from bulwark.toolchain.solc import Compiler

from .conftest import HERE

OLD = (0, 4, 19)


def test_reason_strings_go_before_0_4_22_and_nothing_changes_from_it() -> None:
    text = 'require(a(b, c) >= d, "Bulwark: x, (y)"); revert("no");'
    assert downlevel(text, OLD) == "require(a(b, c) >= d); revert();"
    assert downlevel(text, (0, 4, 22)) == text
    # a two-argument require whose second argument is not a string is left alone
    assert downlevel("require(f(x, y));", OLD) == "require(f(x, y));"


def test_hashes_of_abi_encode_become_the_old_packed_hash() -> None:
    text = "bytes32 slot = keccak256(abi.encode(to, uint256(0x12)));"
    assert downlevel(text, OLD) == "bytes32 slot = keccak256(to, uint256(0x12));"
    packed = 'require(ok(keccak256(abi.encodePacked(a, b))), "c");'
    assert downlevel(packed, OLD) == "require(ok(keccak256(a, b)));"
    # abi.encode that is not the whole argument of the hash stays (nothing to rewrite it to)
    assert downlevel("keccak256(abi.encode(a), b)", OLD) == "keccak256(abi.encode(a), b)"


def test_emit_goes_before_0_4_21_only() -> None:
    assert downlevel("emit Paid(to, 1);", (0, 4, 20)) == "Paid(to, 1);"
    assert downlevel("emit Paid(to, 1);", (0, 4, 21)) == "emit Paid(to, 1);"


def test_a_contract_pinned_to_0_4_19_gets_a_compiled_lock(compiler: Compiler) -> None:
    request = PatchRequest(paths=[HERE / "contracts" / "classes" / "Pinned19.sol"], use_slither=False)
    patches = generate(request, compiler=compiler)
    lock = next(p for p in patches if p.template.startswith("reentrancy-lock"))
    assert lock.compiled and lock.solc_version.startswith("0.4.19")
    text = next(iter(lock.patched_sources.values()))
    assert "require(bulwarkEntered == 0);" in text and '"ReentrancyGuard' not in text


def test_a_dropped_token_result_on_0_4_19_is_required(compiler: Compiler) -> None:
    path = HERE / "contracts" / "classes" / "Pinned19.sol"
    request = PatchRequest(paths=[path], contract="PinnedVault", use_slither=False)
    first = generate(request, compiler=compiler)[0]
    assert first.template == "check-call-result" and first.compiled
    assert "require(token.transferFrom(msg.sender, this, value));" in next(
        iter(first.patched_sources.values())
    )


def test_pure_and_view_are_constant_before_0_4_16() -> None:
    helper = "function add(uint256 a) internal pure returns (uint256) {}\nfunction f() private view {}"
    assert downlevel(helper, (0, 4, 15)) == (
        "function add(uint256 a) internal constant returns (uint256) {}\nfunction f() private constant {}"
    )
    assert downlevel(helper, (0, 4, 16)) == helper
