"""Signature replay: each signed digest is accepted once; the signed message names its contract and chain.

Two templates. ``UsedDigestFix`` records every accepted digest in an ERC-7201 slot and rejects it
the second time: the signed message does not change, so off-chain signers keep working; it is keyed
by the digest, not the signature bytes, so a malleable second form is rejected too. It cannot stop a
signature made for one contract (or chain) from being accepted by another deployment of the same
code: ``DomainBindFix`` binds ``address(this)`` (and the chain id where the compiler has it) into the
signed message. That changes what signers sign, an interface change for off-chain signers, so it
comes second unless the contract already rejects in-contract replays (a nonce or a used record),
when binding is the only fix that helps.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from bulwark.domain import VulnClass
from bulwark.domain.patch import Edit, Localisation
from bulwark.patch.context import FixContext, erc7201_slot
from bulwark.patch.fixes.base import Candidate, FixTemplate
from bulwark.patch.solast import Contract, Function, Node, Program, callee_name, src, type_string, walk

NAMESPACE = "bulwark.patch.UsedDigests"
SIG_CALLS = frozenset({"ecrecover", "recover", "tryRecover", "isValidSignatureNow"})
_PREFIXERS = frozenset({"toEthSignedMessageHash"})
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


def _digest_arg(call: Node) -> Node | None:
    args = call.get("arguments") or []
    if callee_name(call) == "isValidSignatureNow":
        return args[1] if len(args) > 1 else None
    return args[0] if args else None


@dataclass(frozen=True, slots=True)
class Verification:
    """A call in the entry function's own body that verifies a signature over ``digest``."""

    call: Node
    digest: Node
    sig_call: Node  # the ecrecover/recover call itself (maybe inside a helper)
    owner: Function | None  # the function holding sig_call (None: the entry function)


def verifications(program: Program, contract: Contract, fn: Function) -> list[Verification]:
    """Signature checks made by ``fn``'s body, directly or through one internal helper whose
    parameter carries the digest (``require(_recover(digest, sig) == from)``)."""
    out: list[Verification] = []
    if fn.body is None:
        return out
    for call in (n for n in walk(fn.body) if n.get("nodeType") == "FunctionCall"):
        if callee_name(call) in SIG_CALLS:
            digest = _digest_arg(call)
            if digest is not None:
                out.append(Verification(call, digest, call, None))
            continue
        g = program.internal_target(contract, call)
        if g is None or g.body is None or g.id == fn.id:
            continue
        params = [int(p["id"]) for p in (g.node.get("parameters") or {}).get("parameters") or []]
        args = call.get("arguments") or []
        for inner in (n for n in walk(g.body) if n.get("nodeType") == "FunctionCall"):
            if callee_name(inner) not in SIG_CALLS:
                continue
            d = _digest_arg(inner) or {}
            ref = d.get("referencedDeclaration")
            if d.get("nodeType") == "Identifier" and ref in params and params.index(int(ref)) < len(args):
                out.append(Verification(call, args[params.index(int(ref))], inner, g))
                break
    return out


def _message_encoding(
    program: Program, contract: Contract, fn: Function, expr: Node, depth: int = 0
) -> tuple[Node, Function] | None:
    """The ``abi.encode``/``encodePacked`` call of the signed message that ``expr`` hashes (the
    EIP-191 prefix wrapper is looked through), with the function holding it."""
    if depth > 6 or fn.body is None:
        return None
    kind = expr.get("nodeType")
    if kind == "Identifier":
        ref = expr.get("referencedDeclaration")
        for st in (n for n in walk(fn.body) if n.get("nodeType") == "VariableDeclarationStatement"):
            decls = st.get("declarations") or []
            if len(decls) == 1 and decls[0] and decls[0].get("id") == ref and st.get("initialValue"):
                return _message_encoding(program, contract, fn, st["initialValue"], depth + 1)
        return None
    if kind != "FunctionCall":
        return None
    name = callee_name(expr)
    args = expr.get("arguments") or []
    if name in _PREFIXERS and args:
        return _message_encoding(program, contract, fn, args[0], depth + 1)
    if name == "keccak256" and len(args) == 1:
        enc = args[0]
        if enc.get("nodeType") != "FunctionCall" or callee_name(enc) not in ("encodePacked", "encode"):
            return None
        parts = enc.get("arguments") or []
        prefixed = [
            p for p in parts if p.get("nodeType") == "Literal" and "\x19" in str(p.get("value") or "")
        ]
        if prefixed:
            rest = [p for p in parts if p not in prefixed]
            if len(rest) == 1:
                return _message_encoding(program, contract, fn, rest[0], depth + 1)
            return None
        if any("\x19" in str(p.get("value") or "") for p in walk(enc) if p.get("nodeType") == "Literal"):
            return None  # already EIP-712 style (a domain separator is bound)
        return enc, fn
    g = program.internal_target(contract, expr)
    if g is None or g.body is None:
        return None
    stmts = g.body.get("statements") or []
    if len(stmts) == 1 and stmts[0].get("nodeType") == "Return" and stmts[0].get("expression"):
        return _message_encoding(program, contract, g, stmts[0]["expression"], depth + 1)
    return None


def _entry(ctx: FixContext, finding: Localisation) -> tuple[Contract, Function] | None:
    contract = ctx.program.contract(finding.contract)
    fn = contract.function(finding.function) if contract and finding.function is not None else None
    if contract is None or fn is None or fn.body is None or not ctx.editable(fn.body):
        return None
    return contract, fn


class UsedDigestFix(FixTemplate):
    NAME = "signature-used-digest"
    CLASSES = frozenset({VulnClass.SIGNATURE_REPLAY})
    DESCRIPTION = "records every accepted signed digest and rejects it the second time"

    def propose(self, ctx: FixContext, finding: Localisation) -> Iterator[Candidate]:
        found = _entry(ctx, finding)
        if found is None or "cross-domain" in finding.detector:
            return
        contract, fn = found
        for v in verifications(ctx.program, contract, fn):
            stmt = _enclosing_statement(fn.body or {}, v.call)
            if stmt is None or stmt.get("nodeType") == "Return":
                continue  # only after the statement that verifies: never mark an unverified digest
            digest = ctx.node_text(v.digest)
            if any(n.get("nodeType") == "FunctionCall" for n in walk(v.digest)) and not _pure_call(v.digest):
                continue
            yield self.candidate(
                finding,
                [
                    ctx.insert_after(stmt, f"_bulwarkUseDigest({digest});"),
                    ctx.contract_end(contract, helper(erc7201_slot(NAMESPACE))),
                ],
                f"{fn.name} accepted the same signed message any number of times, so a valid signature "
                "could be replayed. The fix records each accepted digest (in an ERC-7201 namespaced slot, "
                "so no storage variable moves) and rejects it the second time; the signed message is "
                "unchanged, so existing signers keep working.",
                preference=1,
            )
            return


def _pure_call(expr: Node) -> bool:
    """Every call inside ``expr`` is a hash or an encoding (safe to evaluate twice)."""
    return all(
        callee_name(n) in ("keccak256", "encodePacked", "encode", "toEthSignedMessageHash")
        or "pure" in type_string(n.get("expression") or {})
        for n in walk(expr)
        if n.get("nodeType") == "FunctionCall"
    )


class DomainBindFix(FixTemplate):
    NAME = "signature-bind-domain"
    CLASSES = frozenset({VulnClass.SIGNATURE_REPLAY})
    DESCRIPTION = "binds the contract address and chain id into the signed message"

    def propose(self, ctx: FixContext, finding: Localisation) -> Iterator[Candidate]:
        found = _entry(ctx, finding)
        if found is None:
            return
        contract, fn = found
        program = ctx.program
        cross_only = "cross-domain" in finding.detector
        for v in verifications(program, contract, fn):
            hit = _message_encoding(program, contract, fn, v.digest)
            if hit is None:
                continue
            enc, holder = hit
            if not ctx.editable(enc):
                continue
            parts = enc.get("arguments") or []
            if not parts:
                continue
            first = src(parts[0])
            st = ctx.text(enc)
            base = [Edit(st.path, first.start, first.start, "address(this), ")]
            if holder.mutability == "pure":
                view = _pure_to_view(ctx, holder)
                if view is None:
                    continue
                base.append(view)
            options: list[tuple[list[Edit], str]] = []
            if program.at_least(0, 8):
                options.append(
                    (
                        [
                            Edit(st.path, first.start, first.start, "address(this), block.chainid, "),
                            *base[1:],
                        ],
                        "block.chainid",
                    )
                )
            elif program.at_least(0, 5, 12):
                chain_fn = (
                    "function _bulwarkChainId() private view returns (uint256 id) {\n"
                    "    assembly { id := chainid() }\n}\n"
                )
                options.append(
                    (
                        [
                            Edit(st.path, first.start, first.start, "address(this), _bulwarkChainId(), "),
                            *base[1:],
                            ctx.contract_end(contract, chain_fn),
                        ],
                        "the chain id",
                    )
                )
            options.append((base, ""))
            for rank, (edits, chain) in enumerate(options):
                bound = f"the contract's address and {chain}" if chain else "the contract's address"
                yield self.candidate(
                    finding,
                    edits,
                    f"The message {fn.name} accepts did not say which contract (or chain) it was for, so a "
                    f"signature made for one deployment could be replayed on another. The fix binds {bound} "
                    f"into the signed message ({holder.name}). Signers must sign the new message: the "
                    "function signatures are unchanged, the signed payload is not.",
                    preference=(1 if cross_only else -1) - 0.1 * rank,
                )
            return


def _pure_to_view(ctx: FixContext, fn: Function) -> Edit | None:
    """Replace the ``pure`` keyword of ``fn``'s header (between its parameters and its body)."""
    st = ctx.text(fn.node)
    lo = src(fn.node["parameters"]).end
    rets = fn.node.get("returnParameters") or {}
    hi = src(rets).start if rets.get("parameters") else src(fn.body or fn.node).start
    header = st.slice(lo, hi)
    tokens = header.replace("\n", " ").split(" ")
    if tokens.count("pure") != 1:
        return None
    at = lo + len(header[: header.index(" pure")].encode()) + 1 if " pure" in header else -1
    if at < 0 or st.slice(at, at + 4) != "pure":
        return None
    return Edit(st.path, at, at + 4, "view")
