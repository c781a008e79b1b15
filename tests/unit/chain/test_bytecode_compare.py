"""Runtime-code comparison on real solc output: the metadata trailer and immutables do not count,
anything else does."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from bulwark.chain.bytecode import (
    artifact_ranges,
    compare_artifact,
    compare_runtime,
    mask_ranges,
    metadata_solc_version,
    strip_metadata,
)
from bulwark.toolchain.artifacts import ContractArtifact
from bulwark.toolchain.solc import Compiler

SOURCE = """// SPDX-License-Identifier: MIT
pragma solidity ^0.8.19;

contract Vault {
    address public immutable owner;
    uint256 public immutable cap;
    uint256 public total;

    constructor(uint256 cap_) {
        owner = msg.sender;
        cap = cap_;
    }

    function deposit(uint256 amount) external {
        require(total + amount <= cap, "cap");
        total += amount;
    }
}
"""


@pytest.fixture(scope="module")
def compiler() -> Iterator[Compiler]:
    with Compiler() as c:
        yield c


def _build(compiler: Compiler, source: str = SOURCE, version: str = "0.8.26") -> ContractArtifact:
    result = compiler.compile_sources({"Vault.sol": source}, version=version, optimize=True, runs=200)
    return result.contract("Vault")


def _deployed(art: ContractArtifact, owner: bytes, cap: int) -> bytes:
    """The runtime code as the chain holds it: each immutable's value spliced in at its places."""
    code = bytearray(art.deployed_bytecode)
    # AST ids grow in declaration order: owner, then cap.
    owner_id, cap_id = sorted(art.immutable_references, key=int)
    values = {owner_id: owner.rjust(32, b"\x00"), cap_id: cap.to_bytes(32, "big")}
    for ast_id, refs in art.immutable_references.items():
        for ref in refs:
            code[ref.start : ref.start + ref.length] = values[ast_id][-ref.length :]
    return bytes(code)


def test_the_deployed_code_matches_with_immutables_filled_in(compiler: Compiler) -> None:
    art = _build(compiler)
    assert len(art.immutable_references) == 2  # owner and cap
    deployed = _deployed(art, bytes.fromhex("ab" * 20), 10**24)
    assert deployed != art.deployed_bytecode
    assert compare_artifact(deployed, art).matches
    # Without masking the immutables, the same program would be reported as different.
    unmasked = compare_runtime(deployed, art.deployed_bytecode, ())
    assert not unmasked.matches and "code differs from byte" in unmasked.reason


def test_a_comment_changes_only_the_metadata_trailer(compiler: Compiler) -> None:
    art, commented = _build(compiler), _build(compiler, SOURCE + "\n// audited\n")
    assert art.deployed_bytecode != commented.deployed_bytecode  # the metadata hash differs
    assert strip_metadata(art.deployed_bytecode) == strip_metadata(commented.deployed_bytecode)
    deployed = _deployed(commented, bytes(20), 1)
    assert compare_artifact(deployed, art).matches


def test_an_edited_source_does_not_match(compiler: Compiler) -> None:
    art = _build(compiler)
    edited = _build(compiler, SOURCE.replace("total + amount <= cap", "total + amount < cap"))
    result = compare_artifact(_deployed(edited, bytes(20), 5), art)
    assert not result.matches
    assert result.first_difference is not None
    assert "the source differs, or the compiler settings" in result.reason


def test_another_compiler_version_is_named(compiler: Compiler) -> None:
    art, older = _build(compiler), _build(compiler, version="0.8.19")
    assert (metadata_solc_version(art.deployed_bytecode), metadata_solc_version(older.deployed_bytecode)) == (
        "0.8.26",
        "0.8.19",
    )
    result = compare_artifact(_deployed(older, bytes(20), 5), art)
    assert not result.matches
    expected = "compiler settings differ: deployed with solc 0.8.19, compiled with 0.8.26"
    assert result.reason.startswith(expected)


def test_no_code_at_the_implementation(compiler: Compiler) -> None:
    result = compare_artifact(b"", _build(compiler))
    assert not result.matches and result.reason == "no code at the implementation"


def test_immutable_ranges_come_from_the_compiler() -> None:
    assert mask_ranges(b"\x01\x02\x03\x04", [(1, 2), (3, 10)]) == b"\x01\x00\x00\x00"
    assert metadata_solc_version(b"\x60\x00") is None
    assert strip_metadata(b"\x60\x00") == b"\x60\x00"


def test_artifact_ranges_list_every_immutable_place(compiler: Compiler) -> None:
    art = _build(compiler)
    ranges = artifact_ranges(art)
    assert len(ranges) == sum(len(refs) for refs in art.immutable_references.values()) >= 2
    assert all(length == 32 for _, length in ranges)
