"""The one compact-AST walker: order, what it skips, ranges, the index; and, on a real solc AST,
that the stages that moved onto it (verify, remedy, intel) see the same nodes."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from bulwark.toolchain.solast import AstIndex, find, members, smallest_at, src_range, type_string, walk
from bulwark.toolchain.solc import Compiler


def _n(kind: str, src: str, **kw: Any) -> dict[str, Any]:
    return {"nodeType": kind, "src": src, **kw}


DOC = _n("StructuredDocumentation", "0:5:0", text="@notice x", id=99)
INNER = _n("FunctionDefinition", "30:10:0", id=4, name="inner", nodes=[])
AST = _n(
    "SourceUnit",
    "0:100:0",
    id=1,
    nodes=[
        _n(
            "ContractDefinition",
            "0:100:0",
            id=2,
            name="C",
            documentation=DOC,
            nodes=[
                _n("FunctionDefinition", "10:50:0", id=3, name="outer", body=_n("Block", "12:40:0", id=5)),
                INNER,
                {"not": "a node", "deep": [_n("Identifier", "70:1:0", id=6, referencedDeclaration=3)]},
            ],
            typeDescriptions={"typeString": "contract C", "nested": _n("Hidden", "0:0:0")},
        )
    ],
)


def test_walk_is_depth_first_in_source_order_and_skips_annotations() -> None:
    assert [n["id"] for n in walk(AST)] == [1, 2, 3, 5, 4, 6]  # not the NatSpec (99), not "Hidden"
    assert [n["id"] for n in walk([INNER, INNER])] == [4, 4]
    assert list(walk("text")) == [] and list(walk(None)) == []


def test_find_members_and_ranges() -> None:
    [contract] = find(AST, "ContractDefinition")
    assert [n["name"] for n in find(AST, "FunctionDefinition")] == ["outer", "inner"]
    assert [n["id"] for n in find(AST, "Block", "Identifier")] == [5, 6]
    assert [n["name"] for n in members(contract, "FunctionDefinition")] == ["outer", "inner"]
    r = src_range(INNER)
    assert (r.start, r.length, r.file, r.end) == (30, 10, 0, 40)
    assert r.contains(30) and r.contains(39) and not r.contains(40)
    assert type_string(contract) == "contract C" and type_string(INNER) == ""


@pytest.mark.parametrize(("offset", "name"), [(35, "inner"), (12, "outer"), (59, "outer"), (60, None)])
def test_smallest_at_is_the_innermost_range(offset: int, name: str | None) -> None:
    hit = smallest_at(AST, "FunctionDefinition", offset)
    assert (hit or {}).get("name") == name


def test_a_real_compilation_is_indexed_by_id(tmp_path: Path) -> None:
    src = tmp_path / "Pair.sol"
    src.write_text(
        "// SPDX-License-Identifier: MIT\npragma solidity 0.8.25;\n"
        "contract Base { uint256 public fee; function setFee(uint256 f) external { fee = f; } }\n"
        "/// @notice the derived one\n"
        "contract Pair is Base { function bump() external { fee += 1; } }\n"
    )
    with Compiler() as compiler:
        result = compiler.compile_files([src])
    index = AstIndex.of(result)
    pair = index.contract("Pair")
    assert [c["name"] for c in index.linearization(pair)] == ["Pair", "Base"]
    assert index.unit_of[int(pair["id"])] in result.sources
    with pytest.raises(KeyError):
        index.contract("Pair", source_path="elsewhere.sol")
    [write] = [n for n in walk(pair) if n.get("nodeType") == "Identifier" and n.get("name") == "fee"]
    decl = index.ref(write)
    assert decl is not None and decl["nodeType"] == "VariableDeclaration" and decl["name"] == "fee"
    assert not any(n.get("nodeType") == "StructuredDocumentation" for n in index.nodes.values())
