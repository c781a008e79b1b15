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
        or any(m in type_string(n.get("expression") or {}) for m in (" pure", " view"))
        for n in walk(expr)
        if n.get("nodeType") == "FunctionCall"
    )


NONCE_NAMESPACE = "bulwark.patch.SignerNonces"
_UNIQUE_WORDS = ("nonce", "id", "epoch", "salt", "round", "index", "seq", "serial")


def nonce_helpers() -> str:
    slot = hex(erc7201_slot(NONCE_NAMESPACE))
    return f"""
/// @dev Added by Bulwark: per-signer nonces bound into signed messages, kept in the ERC-7201
///      namespace "{NONCE_NAMESPACE}" (storage layout unchanged).
function _bulwarkNonceOf(address account) private view returns (uint256 nonce) {{
    bytes32 slot = keccak256(abi.encode(account, uint256({slot})));
    assembly {{ nonce := sload(slot) }}
}}

function _bulwarkUseNonce(address account) private {{
    bytes32 slot = keccak256(abi.encode(account, uint256({slot})));
    uint256 nonce;
    assembly {{ nonce := sload(slot) }}
    assembly {{ sstore(slot, add(nonce, 1)) }}
}}
"""


def _unique_field(ctx: FixContext, enc: Node) -> bool:
    """Does the signed message carry a field that makes each message unique (an id, a nonce)?"""
    for part in enc.get("arguments") or []:
        words = ctx.node_text(part).lower()
        if any(w in words for w in _UNIQUE_WORDS):
            return True
    return False


def _signer(program: Program, fn: Function, v: Verification) -> Node | None:
    """The expression the recovered address is compared with (``... == from``)."""
    body = fn.body or {}
    holders = {id(x) for x in walk(v.call)}
    locals_: set[int] = set()
    for st in (n for n in walk(body) if n.get("nodeType") == "VariableDeclarationStatement"):
        if any(id(x) in holders for x in walk(st.get("initialValue") or {})):
            locals_ |= {int(d["id"]) for d in st.get("declarations") or [] if d}
    for n in walk(body):
        if n.get("nodeType") != "BinaryOperation" or n.get("operator") not in ("==", "!="):
            continue
        left, right = n.get("leftExpression") or {}, n.get("rightExpression") or {}
        for a, b in ((left, right), (right, left)):
            has_call = any(id(x) in holders for x in walk(a)) or (
                a.get("nodeType") == "Identifier" and a.get("referencedDeclaration") in locals_
            )
            if has_call and b.get("nodeType") == "Identifier" and type_string(b).startswith("address"):
                return b
    return None


def _key_in(program: Program, contract: Contract, fn: Function, holder: Function, signer: Node) -> str | None:
    """How ``holder`` (which builds the message) names the signer: fn's own expression, or the
    parameter of the helper that fn passes the signer to."""
    if holder.id == fn.id:
        return str(signer.get("name"))
    ref = signer.get("referencedDeclaration")
    for call in (n for n in walk(fn.body) if n.get("nodeType") == "FunctionCall"):
        if program.internal_target(contract, call) is None:
            continue
        if (program.internal_target(contract, call) or holder).id != holder.id:
            continue
        for k, arg in enumerate(call.get("arguments") or []):
            if arg.get("nodeType") == "Identifier" and arg.get("referencedDeclaration") == ref:
                params = (holder.node.get("parameters") or {}).get("parameters") or []
                return str(params[k].get("name")) if k < len(params) and params[k].get("name") else None
    return None


class DomainBindFix(FixTemplate):
    NAME = "signature-bind-domain"
    CLASSES = frozenset({VulnClass.SIGNATURE_REPLAY})
    DESCRIPTION = "binds a per-signer nonce, the contract address and the chain id into the signed message"

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
            parts = enc.get("arguments") or []
            if not ctx.editable(enc) or not parts:
                continue
            st = ctx.text(enc)
            at = src(parts[0]).start
            common: list[Edit] = []
            if holder.mutability == "pure":
                view = _pure_to_view(ctx, holder)
                if view is None:
                    continue
                common.append(view)
            chain: tuple[str, list[Edit]] | None = None
            if program.at_least(0, 8):
                chain = ("block.chainid", [])
            elif program.at_least(0, 5, 12):
                chain_fn = (
                    "function _bulwarkChainId() private view returns (uint256 id) {\n"
                    "    assembly { id := chainid() }\n}\n"
                )
                chain = ("_bulwarkChainId()", [ctx.contract_end(contract, chain_fn)])
            nonce: tuple[str, list[Edit]] | None = None
            signer = _signer(program, fn, v)
            stmt = _enclosing_statement(fn.body or {}, v.call)
            if (
                not cross_only
                and signer is not None
                and stmt is not None
                and stmt.get("nodeType") != "Return"
            ):
                key = _key_in(program, contract, fn, holder, signer)
                if key is not None:
                    nonce = (
                        f"_bulwarkNonceOf({key})",
                        [
                            ctx.insert_after(stmt, f"_bulwarkUseNonce({ctx.node_text(signer)});"),
                            ctx.contract_end(contract, nonce_helpers()),
                        ],
                    )
            # without a unique field, recording digests would refuse the same payment made twice:
            # then a nonce is the fix that keeps normal use, and it comes first
            nonce_first = nonce is not None and not _unique_field(ctx, enc)
            options: list[tuple[list[tuple[str, list[Edit]]], float]] = []
            if nonce is not None:
                base = 2.0 if nonce_first else -1.0
                if chain is not None:
                    options.append(([("address(this)", []), chain, nonce], base))
                options.append(([("address(this)", []), nonce], base - 0.1))
            base = 1.0 if cross_only else -1.5
            if chain is not None:
                options.append(([("address(this)", []), chain], base))
            options.append(([("address(this)", [])], base - 0.1))
            for fields, preference in options:
                prefix = "".join(f"{text}, " for text, _ in fields)
                edits = [Edit(st.path, at, at, prefix), *common, *(e for _, es in fields for e in es)]
                words = ["the contract's address"]
                if chain is not None and chain in fields:
                    words.append("the chain id")
                if nonce is not None and nonce in fields:
                    words.append("a per-signer nonce (spent on use)")
                bound = ", ".join(words[:-1]) + (" and " if len(words) > 1 else "") + words[-1]
                yield self.candidate(
                    finding,
                    edits,
                    f"The message {fn.name} accepts could be used again (here, or on another deployment or "
                    f"chain), so a valid signature could be replayed. The fix binds {bound} into the signed "
                    f"message ({holder.name}). Signers must sign the new message"
                    + (
                        f" (the contract's own {holder.name} returns it)"
                        if holder.id != fn.id and holder.is_entry
                        else ""
                    )
                    + "; every function keeps its signature.",
                    preference=preference,
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
