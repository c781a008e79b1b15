"""A secret revealed in calldata: a function that pays whoever first presents a value whose hash
the contract knows (a riddle's answer, a gift code, a preimage). The value sits in the public
mempool once the rightful caller sends it, so anyone can copy it with a higher tip."""

from __future__ import annotations

from collections.abc import Iterator

from bulwark.domain import VulnClass
from bulwark.domain.patch import Localisation
from bulwark.patch.locate.checks.randomness import pays_or_credits_caller
from bulwark.patch.locate.facts import own_entries
from bulwark.patch.locate.finding import localisation
from bulwark.patch.solast import Contract, Function, Node, Program, callee_name, walk

HASHES = frozenset({"keccak256", "sha3", "sha256", "ripemd160"})


def _reads_state(program: Program, node: Node) -> bool:
    for n in walk(node):
        ref = n.get("referencedDeclaration")
        if n.get("nodeType") == "Identifier" and ref is not None:
            decl = program.nodes_by_id.get(int(ref)) or {}
            if decl.get("stateVariable") and not decl.get("constant"):
                return True
    return False


def revealed_parameters(program: Program, fn: Function) -> list[Node]:
    """Parameters of ``fn`` whose hash is matched against state: compared with a stored value, or
    used (directly or through a local) as the key of a stored mapping."""
    params = {int(p["id"]): p for p in (fn.node.get("parameters") or {}).get("parameters") or []}
    if not params or fn.body is None:
        return []
    hashed: dict[int, set[int]] = {}  # id(hash call) -> parameter ids in it
    for call in program.nodes(fn.body, "FunctionCall"):
        if callee_name(call) in HASHES:
            used = {
                int(x["referencedDeclaration"])
                for a in call.get("arguments") or []
                for x in walk(a)
                if x.get("nodeType") == "Identifier" and x.get("referencedDeclaration") in params
            }
            if used:
                hashed[id(call)] = used
    if not hashed:
        return []
    # locals holding such a hash: bytes32 h = keccak256(code);
    local_of: dict[int, set[int]] = {}
    for st in program.nodes(fn.body, "VariableDeclarationStatement"):
        init = st.get("initialValue") or {}
        if id(init) in hashed:
            for d in st.get("declarations") or []:
                if d:
                    local_of[int(d["id"])] = hashed[id(init)]

    def secret_in(node: Node) -> set[int]:
        out: set[int] = set()
        for x in walk(node):
            out |= hashed.get(id(x), set())
            ref = x.get("referencedDeclaration")
            if x.get("nodeType") == "Identifier" and ref is not None:
                out |= local_of.get(int(ref), set())
        return out

    found: set[int] = set()
    for n in program.nodes(fn.body):
        if n.get("nodeType") == "BinaryOperation" and n.get("operator") in ("==", "!="):
            left, right = n.get("leftExpression") or {}, n.get("rightExpression") or {}
            for a, b in ((left, right), (right, left)):
                if secret_in(a) and _reads_state(program, b):
                    found |= secret_in(a)
        elif n.get("nodeType") == "IndexAccess" and _reads_state(program, n.get("baseExpression") or {}):
            found |= secret_in(n.get("indexExpression") or {})
    return [params[i] for i in sorted(found)]


def _verifies_signature(program: Program, fn: Function) -> bool:
    return any(
        callee_name(c) in ("ecrecover", "recover", "tryRecover", "isValidSignature", "isValidSignatureNow")
        for part in program.closure(fn)
        for c in program.nodes(part.body, "FunctionCall")
    )


def check_revealed_answer(program: Program, contract: Contract) -> Iterator[Localisation]:
    for fn in own_entries(program, contract):
        if fn.kind != "function" or program.checks_sender(fn):
            continue
        if _verifies_signature(program, fn):
            continue  # a signed message: the secret is the signature (replay checks handle it)
        secrets = revealed_parameters(program, fn)
        if not secrets or not pays_or_credits_caller(program, fn):
            continue
        names = ", ".join(str(p.get("name") or "?") for p in secrets)
        yield localisation(
            program,
            "revealed-answer",
            VulnClass.FRONT_RUNNING,
            contract,
            fn,
            None,
            0.65,
            f"{fn.name} rewards its caller for presenting {names}, whose hash the contract holds: the value "
            "is public in the mempool as soon as the rightful caller sends it, and a copy with a higher tip "
            "is mined first",
        )
