"""Signature replay: each signed digest is accepted once (used-digest record in an ERC-7201 slot).

The record is keyed by the digest, not the signature bytes, so a malleable second form of the
same signature is rejected too. The signed message does not change, so off-chain signers keep
working; the record lives in a namespaced slot, so an upgradeable layout is untouched.
"""

from __future__ import annotations

from collections.abc import Iterator

from bulwark.domain import VulnClass
from bulwark.domain.patch import Localisation
from bulwark.patch.context import FixContext, erc7201_slot
from bulwark.patch.fixes.base import Candidate, FixTemplate
from bulwark.patch.solast import Node, callee_name, src, walk

NAMESPACE = "bulwark.patch.UsedDigests"
_STATEMENTS = (
    "ExpressionStatement",
    "VariableDeclarationStatement",
    "IfStatement",
    "Return",
    "EmitStatement",
)


def helper(slot: int) -> str:
    return f"""
/// @dev Added by Bulwark: marks a signed digest as used; the record lives in the ERC-7201
///      namespace "{NAMESPACE}", so the storage layout is unchanged.
function _bulwarkUseDigest(bytes32 digest) private {{
    bytes32 slot = keccak256(abi.encode(digest, uint256({hex(slot)})));
    uint256 used;
    assembly {{ used := sload(slot) }}
    require(used == 0, "signature already used");
    assembly {{ sstore(slot, 1) }}
}}
"""


def _enclosing_statement(body: Node, target: Node) -> Node | None:
    t = src(target)
    best: Node | None = None
    for n in walk(body):
        if n.get("nodeType") in _STATEMENTS:
            s = src(n)
            if s.start <= t.start and t.end <= s.end and (best is None or s.length < src(best).length):
                best = n
    return best


class UsedDigestFix(FixTemplate):
    NAME = "signature-used-digest"
    CLASSES = frozenset({VulnClass.SIGNATURE_REPLAY})
    DESCRIPTION = "records every accepted signed digest and rejects it the second time"

    def propose(self, ctx: FixContext, finding: Localisation) -> Iterator[Candidate]:
        contract = ctx.program.contract(finding.contract)
        fn = contract.function(finding.function) if contract and finding.function else None
        if contract is None or fn is None or fn.body is None or finding.start is None:
            return
        for part in ctx.program.closure(fn):
            if part.body is None or not ctx.editable(part.body):
                continue
            for call in (n for n in walk(part.body) if n.get("nodeType") == "FunctionCall"):
                if src(call).start != finding.start and finding.start not in range(
                    src(call).start, src(call).end
                ):
                    continue
                if callee_name(call) not in ("ecrecover", "recover", "tryRecover", "isValidSignatureNow"):
                    continue
                args = call.get("arguments") or []
                digest_arg = (
                    args[1] if callee_name(call) == "isValidSignatureNow" else (args[0] if args else None)
                )
                stmt = _enclosing_statement(part.body, call)
                if digest_arg is None or stmt is None or stmt.get("nodeType") == "Return":
                    continue
                digest = ctx.node_text(digest_arg)
                edits = [
                    ctx.insert_after(stmt, f"_bulwarkUseDigest({digest});"),
                    ctx.contract_end(contract, helper(erc7201_slot(NAMESPACE))),
                ]
                yield self.candidate(
                    finding,
                    edits,
                    f"{fn.name} accepted the same signed message any number of times, so a valid signature "
                    "could be replayed. The fix records each accepted digest (in an ERC-7201 "
                    "namespaced slot, "
                    "so no storage variable moves) and rejects it the second time; the signed message is "
                    "unchanged, so existing signers keep working.",
                )
                return
