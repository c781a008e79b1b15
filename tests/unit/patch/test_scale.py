"""Localisation and candidate generation do work linear in the number of functions.

Not a timed test: it counts AST node visits (every call of ``solast.walk``, recursive ones included)
while locating and generating candidates on a generated contract of N and of 2N functions with the
same two flaws. Linear work doubles; the old quadratic parts (every function's writes recomputed for
every other function, a scan of all functions per internal call) quadruple it.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from typing import Any

import pytest

from bulwark.patch import solast
from bulwark.patch.engine import PatchRequest, analyse, candidates
from bulwark.toolchain.solc import Compiler


def _contract(n: int) -> str:
    """``n`` functions: owner-guarded setters through an internal helper, open counters anyone may
    bump, views; plus one unprotected fee setter and one re-entrant withdrawal."""
    out = [
        "// SPDX-License-Identifier: MIT",
        "pragma solidity 0.8.19;",
        "contract Many {",
        "    address public owner;",
        "    uint256 public fee;",
        "    uint256 public counter;",
        "    mapping(uint256 => uint256) public values;",
        "    mapping(address => uint256) public balances;",
        "    constructor() { owner = msg.sender; }",
        "    modifier onlyOwner() { require(msg.sender == owner, 'owner'); _; }",
        "    function _put(uint256 k, uint256 v) internal { values[k] = v; }",
        "    function setFee(uint256 f) external onlyOwner { fee = f; }",
        "    function setFeeAgain(uint256 f) external { fee = f; }",
        "    function deposit() external payable { balances[msg.sender] += msg.value; }",
        "    function withdraw() external {",
        "        uint256 amount = balances[msg.sender];",
        "        (bool ok, ) = msg.sender.call{value: amount}('');",
        "        require(ok);",
        "        balances[msg.sender] = 0;",
        "    }",
    ]
    for i in range(n):
        kind = i % 3
        if kind == 0:
            out.append(f"    function set{i}(uint256 v) external onlyOwner {{ _put({i}, v); }}")
        elif kind == 1:
            out.append(f"    function bump{i}() external {{ counter += {i}; }}")
        else:
            out.append(f"    function get{i}() external view returns (uint256) {{ return values[{i}]; }}")
    out.append("}")
    return "\n".join(out) + "\n"


class _Counter:
    def __init__(self) -> None:
        self.visits = 0

    def walk(self, node: Any) -> Iterator[solast.Node]:
        self.visits += 1
        if isinstance(node, dict):
            if "nodeType" in node:
                yield node
            for key, value in node.items():
                if key in ("typeDescriptions", "documentation"):
                    continue
                if isinstance(value, dict | list):
                    yield from self.walk(value)
        elif isinstance(node, list):
            for item in node:
                yield from self.walk(item)


def _visits(compiler: Compiler, n: int, monkeypatch: pytest.MonkeyPatch) -> tuple[int, list[str]]:
    request = PatchRequest(sources={"Many.sol": _contract(n)}, use_slither=False)
    counter = _Counter()
    original = solast.walk
    with monkeypatch.context() as mp:
        # every module of the patch stage that imported walk by name gets the counting one
        for name, module in list(sys.modules.items()):
            if name.startswith("bulwark.patch") and getattr(module, "walk", None) is original:
                mp.setattr(module, "walk", counter.walk)
        analysis = analyse(request, compiler)
        generation = candidates(analysis, compiler, max_patches=1)
    names = sorted({f"{f.vuln_class.value}:{f.function}" for f in analysis.findings if f.score >= 0.5})
    assert generation.patches, "the flaws must get a candidate, or the test measures nothing"
    return counter.visits, names


def test_ast_walks_grow_linearly_with_the_number_of_functions(
    compiler: Compiler, monkeypatch: pytest.MonkeyPatch
) -> None:
    small, found_small = _visits(compiler, 150, monkeypatch)
    large, found_large = _visits(compiler, 300, monkeypatch)
    # the same flaws are found at both sizes
    assert found_small == found_large
    assert "access-control:setFeeAgain" in found_small and "reentrancy:withdraw" in found_small
    # twice the functions: about twice the visits (quadratic work would be about four times)
    assert large < 2.6 * small, (small, large)
