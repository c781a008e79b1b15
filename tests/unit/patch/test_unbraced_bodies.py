"""A statement put before or after the unbraced body of an if, else or loop would leave the branch
(``if (c) x;`` then ``y;`` runs ``y`` always): the fix context braces the body with it instead."""

from __future__ import annotations

from typing import Any

from bulwark.patch import PatchRequest
from bulwark.patch.context import FixContext
from bulwark.patch.edit import apply_all
from bulwark.patch.engine import analyse
from bulwark.toolchain.solc import Compiler

SOURCE = """pragma solidity 0.4.25;
contract Counters {
    uint public a;
    uint public b;
    uint[] public list;
    function f(bool c, uint n) public {
        if (c) a += 1;
        else b += 1;
        for (uint i = 0; i < n; i++) list.push(i);
        a += 2;
    }
}
"""


def _statements(compiler: Compiler) -> tuple[FixContext, dict[str, Any], dict[str, str]]:
    sources = {"Counters.sol": SOURCE}
    analysis = analyse(PatchRequest(sources=sources, use_slither=False), compiler)
    ctx = FixContext(analysis.program)
    fn = analysis.program.contract("Counters").function("f")  # type: ignore[union-attr]
    assert fn is not None and fn.body is not None
    stmts = fn.body["statements"]
    branch, loop, plain = stmts[0], stmts[1], stmts[2]
    found = {"true": branch["trueBody"], "false": branch["falseBody"], "loop": loop["body"], "plain": plain}
    return ctx, found, sources


def test_unbraced_bodies_are_braced_with_the_inserted_statement(compiler: Compiler) -> None:
    ctx, found, sources = _statements(compiler)
    edits = [
        ctx.insert_before(found["true"], "require(a < 10);"),
        ctx.insert_after(found["false"], "emit_nothing();"),
        ctx.insert_before(found["loop"], "require(list.length < 100);"),
    ]
    text = apply_all(sources, edits)["Counters.sol"]
    assert "if (c) { require(a < 10); a += 1; }" in text
    assert "else { b += 1; emit_nothing(); }" in text
    assert "for (uint i = 0; i < n; i++) { require(list.length < 100); list.push(i); }" in text


def test_a_statement_in_a_block_is_inserted_on_its_own_line(compiler: Compiler) -> None:
    ctx, found, sources = _statements(compiler)
    text = apply_all(sources, [ctx.insert_before(found["plain"], "require(b < 10);")])["Counters.sol"]
    assert "        require(b < 10);\n        a += 2;" in text


def test_the_braced_result_compiles_and_keeps_the_branch(compiler: Compiler) -> None:
    ctx, found, sources = _statements(compiler)
    text = apply_all(sources, [ctx.insert_before(found["true"], "require(a < 10);")])["Counters.sol"]
    # the else still belongs to the if: the file compiles with the same functions
    patched = analyse(PatchRequest(sources={"Counters.sol": text}, use_slither=False), compiler)
    assert [f.name for f in patched.program.contract("Counters").functions] == ["f"]  # type: ignore[union-attr]
