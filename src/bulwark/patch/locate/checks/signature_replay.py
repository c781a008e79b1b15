"""Signature replay: signatures accepted with no nonce or used-signature record, or with a record
but a message naming neither the contract nor the chain."""

from __future__ import annotations

from collections.abc import Iterator

from bulwark.domain import VulnClass
from bulwark.domain.patch import Localisation
from bulwark.patch.locate.facts import own_entries
from bulwark.patch.locate.finding import localisation
from bulwark.patch.solast import Contract, Function, Program, callee_name, type_string, walk

_SIG_CALLS = frozenset({"ecrecover", "recover", "tryRecover", "isValidSignatureNow", "isValidSignature"})


def check_signatures(program: Program, contract: Contract) -> Iterator[Localisation]:
    for fn in own_entries(program, contract):
        parts = program.closure(fn)
        sig_calls = [
            n
            for p in parts
            for n in p.program.nodes(p.body)
            if n.get("nodeType") == "FunctionCall" and callee_name(n) in _SIG_CALLS
        ]
        if not sig_calls:
            continue
        written = program.writes(fn)
        replay_safe = any(
            "=> bool" in type_string(program.nodes_by_id.get(v) or {}).replace(")", "")
            or "nonce" in program.name_of(v).lower()
            for v in written
        )
        if replay_safe:
            if not _binds_contract(program, contract, fn):
                yield localisation(
                    program,
                    "signature-cross-domain",
                    VulnClass.SIGNATURE_REPLAY,
                    contract,
                    fn,
                    sig_calls[0],
                    0.6,
                    f"{fn.name} tracks used signatures, but the signed message names neither the contract "
                    "nor the chain: a signature for another deployment of this code is accepted here",
                )
            continue
        yield localisation(
            program,
            "signature-replay",
            VulnClass.SIGNATURE_REPLAY,
            contract,
            fn,
            sig_calls[0],
            0.8,
            f"{fn.name} accepts a signature with no nonce or used-signature record",
        )


def _binds_contract(program: Program, contract: Contract, fn: Function) -> bool:
    """Does every signed message ``fn`` verifies include ``address(this)`` (or is EIP-712)?"""
    from bulwark.patch.fixes.signature_replay import _message_encoding, verifications

    found = verifications(program, contract, fn)
    if not found:
        return True  # cannot tell where the message comes from: say nothing
    for v in found:
        hit = _message_encoding(program, contract, fn, v.digest)
        if hit is None:
            continue  # EIP-712 or built elsewhere
        enc, _ = hit
        if not any(n.get("nodeType") == "Identifier" and n.get("name") == "this" for n in walk(enc)):
            return False
    return True
