"""Fixes for contracts pinned to compilers older than the templates' idioms (solc < 0.4.22): the
emitted text is rewritten to forms that compiler accepts, so the candidates compile."""

from __future__ import annotations

from pathlib import Path

import pytest

from bulwark.errors import CompileError
from bulwark.patch import PatchRequest, generate
from bulwark.patch.engine import OLDEST_PATCHABLE, analyse
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


def test_a_contract_pinned_below_the_oldest_patchable_solc_is_patched_with_it_and_says_so(
    compiler: Compiler, tmp_path: Path
) -> None:
    # 0.4.9 has no standard JSON and 0.4.11 no compact AST: both used to end in "nothing to patch"
    body = (
        "contract Wallet {\n  mapping(address => uint) credit;\n"
        "  function deposit() payable { credit[msg.sender] += msg.value; }\n"
        "  function withdraw() {\n"
        "    if (!msg.sender.call.value(credit[msg.sender])()) throw;\n"
        "    credit[msg.sender] = 0;\n  }\n}\n"
    )
    for pin in ("0.4.9", "0.4.11"):
        path = tmp_path / f"Wallet{pin.replace('.', '')}.sol"
        path.write_text(f"pragma solidity {pin};\n{body}")
        analysis = analyse(PatchRequest(paths=[path], use_slither=False), compiler)
        assert [c.name for c in analysis.targets] == ["Wallet"]
        assert any(
            f"pragma solidity {pin} pins a compiler older than {OLDEST_PATCHABLE}" in n
            for n in analysis.notes
        )
        patches = generate(PatchRequest(paths=[path], use_slither=False), compiler=compiler)
        lock = next(p for p in patches if p.template.startswith("reentrancy-lock"))
        assert lock.compiled and lock.solc_version.startswith(OLDEST_PATCHABLE)
        assert next(iter(lock.patched_sources.values())).startswith(f"pragma solidity {OLDEST_PATCHABLE};")
        # the diff starts from the file as written: the raised pin is part of the change
        assert (
            f"-pragma solidity {pin};" in lock.diff and f"+pragma solidity {OLDEST_PATCHABLE};" in lock.diff
        )


def test_sources_without_a_pragma_are_patched_with_the_newest_release_that_accepts_them(
    compiler: Compiler, tmp_path: Path
) -> None:
    path = tmp_path / "Unpinned.sol"  # 0.4 code (no visibility, throw): the newest solc refuses it
    path.write_text(
        "contract Unpinned {\n  mapping(address => uint) credit;\n"
        "  function deposit() payable { credit[msg.sender] += msg.value; }\n"
        "  function withdraw() {\n    if (!msg.sender.call.value(credit[msg.sender])()) throw;\n"
        "    credit[msg.sender] = 0;\n  }\n}\n"
    )
    analysis = analyse(PatchRequest(paths=[path], use_slither=False), compiler)
    assert analysis.result.version.startswith("0.4.")
    assert any("no pragma solidity" in n and analysis.result.version in n for n in analysis.notes)
    lock = next(
        p
        for p in generate(PatchRequest(paths=[path], use_slither=False), compiler=compiler)
        if p.template.startswith("reentrancy-lock")
    )
    assert lock.compiled and lock.solc_version == analysis.result.version
    # a file that no bundled release accepts still fails with the newest compiler's own error
    broken = tmp_path / "Broken.sol"
    broken.write_text("contract Broken { function f( }\n")
    with pytest.raises(CompileError):
        analyse(PatchRequest(paths=[broken], use_slither=False), compiler)
