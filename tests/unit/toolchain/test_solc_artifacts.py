"""Typed artifacts from raw standard-JSON output (no compiler needed)."""

from __future__ import annotations

import pytest

from bulwark.errors import CompileError
from bulwark.toolchain.artifacts import CompileResult, ContractArtifact, code_bytes
from bulwark.toolchain.solc import _one_line, output_selection

RAW = {
    "abi": [{"type": "function", "name": "x", "inputs": [], "outputs": []}],
    "evm": {
        "bytecode": {"object": "6080", "sourceMap": "1:2:0:-:0", "linkReferences": {}},
        "deployedBytecode": {
            "object": "60ff",
            "sourceMap": "3:4:0",
            "immutableReferences": {"7": [{"start": 10, "length": 32}]},
        },
        "methodIdentifiers": {"x()": "0c55699c"},
    },
    "storageLayout": {
        "storage": [
            {
                "astId": 3,
                "contract": "a.sol:A",
                "label": "owner",
                "offset": 0,
                "slot": "0",
                "type": "t_address",
            },
            {"astId": 5, "contract": "a.sol:A", "label": "flag", "offset": 20, "slot": "0", "type": "t_bool"},
        ],
        "types": {
            "t_address": {"encoding": "inplace", "label": "address", "numberOfBytes": "20"},
            "t_bool": {"encoding": "inplace", "label": "bool", "numberOfBytes": "1"},
        },
    },
}


def test_artifact_fields_are_typed() -> None:
    art = ContractArtifact.from_json("a.sol", "A", RAW)
    assert art.qualified_name == "a.sol:A"
    assert art.bytecode == b"\x60\x80"
    assert art.deployed_bytecode == b"\x60\xff"
    assert art.selectors == {"x()": bytes.fromhex("0c55699c")}
    assert art.immutable_references["7"][0].length == 32
    assert art.storage_layout is not None
    flag = art.storage_layout.variable("flag")
    assert (flag.slot, flag.offset, art.storage_layout.type_of(flag).label) == (0, 20, "bool")
    with pytest.raises(KeyError, match="owner, flag"):
        art.storage_layout.variable("missing")


def test_unlinked_library_placeholders_become_zero_addresses() -> None:
    placeholder = "__$" + "ab" * 17 + "$__"
    assert code_bytes("60" + placeholder + "00") == b"\x60" + bytes(20) + b"\x00"
    legacy = "__lib.sol:Lib" + "_" * 27
    assert len(legacy) == 40
    assert code_bytes("0x60" + legacy) == b"\x60" + bytes(20)


def _result(*arts: ContractArtifact) -> CompileResult:
    return CompileResult("0.8.26", "0.8.26+x", arts, {}, {}, {}, {})


def test_contract_lookup_by_name_and_qualified_name() -> None:
    a = ContractArtifact.from_json("a.sol", "A", RAW)
    b = ContractArtifact.from_json("b.sol", "A", RAW)
    assert _result(a).contract("A") is a
    assert _result(a, b).contract("b.sol:A") is b
    with pytest.raises(CompileError, match=r"ambiguous; use one of: a\.sol:A, b\.sol:A"):
        _result(a, b).contract("A")
    with pytest.raises(CompileError, match=r"no contract 'Nope'.*available: a\.sol:A"):
        _result(a).contract("Nope")


def test_output_selection_asks_only_what_the_version_knows() -> None:
    old = output_selection("0.4.24")["*"]["*"]
    new = output_selection("0.8.26")["*"]["*"]
    assert "storageLayout" not in old and "storageLayout" in new
    assert "storageLayout" in output_selection("0.5.13")["*"]["*"]
    assert "evm.deployedBytecode.immutableReferences" not in old
    assert "evm.deployedBytecode.immutableReferences" in new


@pytest.mark.parametrize(
    ("formatted", "line"),
    [
        (
            "ParserError: Expected ';' but got '}'\n --> a.sol:3:1:\n  |\n3 | }\n",
            "a.sol:3:1: ParserError: Expected ';' but got '}'",
        ),
        (
            "a.sol:3:1: ParserError: Expected token Semicolon\n}\n^\n",
            "a.sol:3:1: ParserError: Expected token Semicolon",
        ),
    ],
)
def test_solc_messages_fold_to_one_line(formatted: str, line: str) -> None:
    assert _one_line(formatted) == line
