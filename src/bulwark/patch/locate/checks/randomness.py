"""Weak randomness: outcomes decided from block data every contract in the same block can compute.

A *block entropy* expression is ``blockhash(...)`` / ``block.blockhash(...)``, ``block.difficulty``,
``block.prevrandao`` or ``block.coinbase`` anywhere, and ``block.timestamp`` / ``now`` /
``block.number`` / ``block.gaslimit`` when hashed (``keccak256``, ``sha3``, ``sha256``) or reduced
with ``%`` (a timestamp compared with a deadline is a clock, not a die). Event arguments do not count.

A hash reduced with ``%`` (``uint(sha3(msg.sender, nonce)) % 10``) is a die too, whatever it hashes:
with no secret in it, a contract calling in the same transaction computes the same number.
"""

from __future__ import annotations

from collections.abc import Iterator

from bulwark.domain import VulnClass
from bulwark.domain.patch import Localisation
from bulwark.patch.locate.facts import own_entries
from bulwark.patch.locate.finding import localisation
from bulwark.patch.solast import Contract, Function, Node, Program, callee_name, is_msg_sender, walk

ALWAYS = frozenset({"difficulty", "prevrandao", "coinbase"})
WHEN_MIXED = frozenset({"timestamp", "number", "gaslimit"})
HASHES = frozenset({"keccak256", "sha3", "sha256"})


def _is_block_member(node: Node, members: frozenset[str]) -> bool:
    base = node.get("expression") or {}
    return (
        node.get("nodeType") == "MemberAccess"
        and node.get("memberName") in members
        and base.get("nodeType") == "Identifier"
        and base.get("name") == "block"
    )


def _is_clock(node: Node) -> bool:
    if node.get("nodeType") == "Identifier" and node.get("name") == "now":
        return True
    return _is_block_member(node, WHEN_MIXED)


def _is_blockhash(node: Node) -> bool:
    if node.get("nodeType") != "FunctionCall":
        return False
    expr = node.get("expression") or {}
    return callee_name(node) == "blockhash" and (
        expr.get("nodeType") == "Identifier" or _is_block_member(expr, frozenset({"blockhash"}))
    )


def _skipped(body: Node) -> set[int]:
    """Node ids (Python ``id``) inside ``emit`` statements: logging a value decides nothing."""
    out: set[int] = set()
    for n in walk(body):
        if n.get("nodeType") == "EmitStatement":
            out.update(id(x) for x in walk(n))
    return out


def entropy_nodes(body: Node | None) -> Iterator[Node]:
    """Block-entropy expressions in ``body`` (see the module docstring)."""
    if body is None:
        return
    skip = _skipped(body)
    mixed: set[int] = set()
    for n in walk(body):
        if id(n) in skip:
            continue
        if n.get("nodeType") == "FunctionCall" and callee_name(n) in HASHES:
            mixed.update(id(x) for a in n.get("arguments") or [] for x in walk(a))
        elif n.get("nodeType") == "BinaryOperation" and n.get("operator") == "%":
            mixed.update(id(x) for x in walk(n.get("leftExpression") or {}))
    for n in walk(body):
        if id(n) in skip:
            continue
        if _is_blockhash(n) or _is_block_member(n, ALWAYS) or (_is_clock(n) and id(n) in mixed):
            yield n
    for n in walk(body):
        if id(n) not in skip and n.get("nodeType") == "BinaryOperation" and n.get("operator") == "%":
            hashed = _unwrap(n.get("leftExpression") or {})
            if hashed.get("nodeType") == "FunctionCall" and callee_name(hashed) in HASHES:
                yield hashed


def _unwrap(node: Node) -> Node:
    """``node`` without the type conversions around it (``uint8(uint256(x))`` -> ``x``)."""
    while node.get("nodeType") == "FunctionCall" and node.get("kind") == "typeConversion":
        node = (node.get("arguments") or [{}])[0]
    return node


def uses_block_entropy(program: Program, fn: Function) -> Node | None:
    """The first block-entropy expression ``fn`` evaluates (in its body or what it calls internally)."""
    for part in program.closure(fn):
        for n in entropy_nodes(part.body):
            return n
    return None


def pays_or_credits_caller(program: Program, fn: Function) -> bool:
    """Does ``fn`` take a stake or pay out (so its caller profits from predicting the outcome)?"""
    if fn.mutability == "payable":
        return True
    for part in program.closure(fn):
        for n in walk(part.body):
            if n.get("nodeType") != "FunctionCall":
                continue
            name = callee_name(n)
            if name in ("transfer", "send", "call", "mint", "safeTransfer", "_mint", "_transfer"):
                return True
            if name and any(is_msg_sender(a) for a in n.get("arguments") or []):
                return True
    return False


def check_randomness(program: Program, contract: Contract) -> Iterator[Localisation]:
    for fn in own_entries(program, contract):
        if program.checks_sender(fn):
            continue  # a privileged caller, or already limited to externally owned accounts
        node = uses_block_entropy(program, fn)
        if node is None:
            continue
        stake = pays_or_credits_caller(program, fn)
        yield localisation(
            program,
            "block-randomness",
            VulnClass.WEAK_RANDOMNESS,
            contract,
            fn,
            node if program.text_of(node) is not None else None,
            0.7 if stake else 0.5,
            f"{fn.name} decides its outcome from block data (or a hash of values as public) that a "
            "contract calling it in the same block computes first"
            + (", and it takes a stake or pays out" if stake else ""),
        )
