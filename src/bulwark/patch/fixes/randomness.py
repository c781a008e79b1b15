"""Weak randomness: refuse contract callers where the outcome comes from block data.

The exploit is always the same: a contract computes the block-derived value in the same
transaction (or calls, looks at the result and reverts when it lost), so it bets only when it
wins. Limiting the functions that consume the value to externally owned accounts
(``msg.sender == tx.origin``) stops that without touching the ABI or the storage layout.

It is a mitigation, not randomness: a block producer can still choose or withhold blocks, and on
chains with EIP-7702 an account with delegated code calling itself passes the check. A
commit-reveal settled against a future blockhash (or a VRF) is the real fix, but it needs a
second call to settle, which changes the ABI, so it is not emitted here.
"""

from __future__ import annotations

from collections.abc import Iterator

from bulwark.domain import VulnClass
from bulwark.domain.patch import Edit, Localisation
from bulwark.patch.context import FixContext
from bulwark.patch.fixes.base import Candidate, FixTemplate
from bulwark.patch.locate.checks.randomness import uses_block_entropy
from bulwark.patch.locate.facts import own_entries
from bulwark.patch.solast import Function, Node, Program, callee_name, src, walk


class EoaOnlyRandomnessFix(FixTemplate):
    NAME = "randomness-eoa-only"
    CLASSES = frozenset({VulnClass.WEAK_RANDOMNESS})
    DESCRIPTION = "functions whose outcome comes from block data refuse contract callers"

    def propose(self, ctx: FixContext, finding: Localisation) -> Iterator[Candidate]:
        program = ctx.program
        contract = program.contract(finding.contract)
        if contract is None:
            return
        reason = ctx.reason("contract callers could predict the outcome")
        check = f"require(msg.sender == tx.origin{reason});"
        edits: list[Edit] = []
        names: list[str] = []
        # every entry point that consumes block entropy: the attacker uses whichever is left open
        for fn in own_entries(program, contract):
            if fn.body is None or program.checks_sender(fn) or uses_block_entropy(program, fn) is None:
                continue
            edits.append(ctx.body_start(fn, check))
            names.append(fn.name or fn.kind)
        if not edits:
            return
        listed = ", ".join(names)
        yield self.candidate(
            finding,
            edits,
            f"{listed} in {contract.name} decided the outcome from block data (blockhash, timestamp, "
            "prevrandao...), which a contract calling in the same transaction computes first, or reads "
            "and reverts on a loss. The fix lets only externally owned accounts call "
            "them (msg.sender == tx.origin): this blocks same-transaction prediction by contracts but "
            "not a block producer choosing or withholding blocks, it is bypassed by an EIP-7702 account "
            "calling itself, and it locks out contract wallets. A commit-reveal against a future "
            "blockhash or a VRF is the lasting fix; it needs a separate settle call (an ABI change), so "
            "it is left to the maintainers. ABI and storage layout are unchanged.",
        )


def _statement_of(program: Program, fn: Function, node: Node) -> Node | None:
    """The innermost statement of ``fn`` holding ``node``."""
    at = src(node)
    best: Node | None = None
    for st in program.nodes(fn.body):
        kind = str(st.get("nodeType", ""))
        if not kind.endswith("Statement") or kind == "Block":
            continue
        s = src(st)
        if s.start <= at.start and at.end <= s.end and (best is None or s.length < src(best).length):
            best = st
    return best


def _blockhash_calls(program: Program, fn: Function) -> list[Node]:
    """``blockhash(n)`` calls in ``fn`` whose block ``n`` is not simply a recent one
    (``block.number - k``): a stored or given block number, which can be out of reach."""
    out: list[Node] = []
    for call in program.nodes(fn.body, "FunctionCall"):
        if callee_name(call) != "blockhash" or len(call.get("arguments") or []) != 1:
            continue
        arg = call["arguments"][0]
        recent = any(
            x.get("nodeType") == "MemberAccess" and x.get("memberName") == "number" for x in walk(arg)
        )
        pure = all(
            x.get("nodeType") != "FunctionCall" or x.get("kind") == "typeConversion" for x in walk(arg)
        )
        if not recent and pure:
            out.append(call)
    return out


class BlockhashInReachFix(FixTemplate):
    NAME = "blockhash-in-reach"
    CLASSES = frozenset({VulnClass.WEAK_RANDOMNESS})
    DESCRIPTION = (
        "refuses to settle on a block hash the EVM does not hold (the current, a future or an old block)"
    )

    def propose(self, ctx: FixContext, finding: Localisation) -> Iterator[Candidate]:
        program = ctx.program
        contract = program.contract(finding.contract)
        if contract is None:
            return
        reason = ctx.reason("block hash out of reach")
        edits: list[Edit] = []
        names: list[str] = []
        for fn in own_entries(program, contract):
            if fn.body is None or program.checks_sender(fn):
                continue
            for call in _blockhash_calls(program, fn):
                at = _statement_of(program, fn, call)
                if at is None:
                    return
                edits.append(ctx.insert_before(at, f"require({ctx.node_text(call)} != bytes32(0){reason});"))
                names.append(fn.name)
        if not edits:
            return
        listed = ", ".join(dict.fromkeys(names))
        yield self.candidate(
            finding,
            edits,
            f"{listed} in {contract.name} decided an outcome from blockhash(n) of a stored or given block. "
            "The EVM answers zero for the current block, future blocks and blocks more than 256 back, so a "
            "player who waits (or settles in the same block) knows the 'random' value in advance. The fix "
            "refuses to settle while the hash is not available. What remains: a block producer can still "
            "withhold a block whose hash loses, and a result not settled within 256 blocks can no longer "
            "be settled (it stays open rather than paying a known outcome); a VRF is the lasting fix. "
            "ABI and storage layout are unchanged.",
            preference=1,
        )
