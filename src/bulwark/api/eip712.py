"""What a signer's browser wallet signs for a proposal, and the dashboard's own check of it.

* **Approve**: one EIP-712 ``SafeTx`` signature per Safe transaction of the proposal (schedule and
  execute, or one batch), exactly what the Safe verifies on chain. The page asks the wallet with
  ``eth_signTypedData_v4`` for each one and posts them in order.
* **Reject**: one EIP-712 ``BulwarkRejection`` signature, bound to the proposal id, the hash of its
  first Safe transaction and the stated reason, under the domain ``Bulwark``/``1``/chain id.

The dashboard recovers every signature and refuses, before anything reaches the app, one that does
not come from the claimed signer or from an address the proposal makes eligible. That is a thin
gate: owner checks against the chain, expiry and duplicates are governance's to decide.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from eth_utils.address import is_address, to_checksum_address

from bulwark.chain.safe import Operation, SafeTx
from bulwark.domain import Address
from bulwark.errors import SignatureRejected
from bulwark.govern.approvals import REJECTION_DOMAIN, REJECTION_TYPES

Decision = Literal["approve", "reject"]

MAX_REASON = 500


@dataclass(frozen=True, slots=True)
class SignedDecision:
    """A decision whose signatures the dashboard recovered to ``signer``.

    ``signature`` is the signatures concatenated in request order (65 bytes each, v = 27/28): for
    an approval, the packed form governance checks against the proposal's Safe transaction hashes.
    """

    proposal_id: str
    decision: Decision
    signer: str
    signature: bytes
    reason: str = ""


def signing_requests(
    proposal: Mapping[str, Any], decision: Decision, reason: str = ""
) -> list[dict[str, Any]]:
    """The typed-data documents the wallet must sign (JSON-ready: bytes as 0x-hex)."""
    try:
        chain_id = int(proposal["chain_id"])
        safe = to_checksum_address(str(proposal["safe"]))
        txs = list(proposal["safe_txs"])
        if not txs:
            raise ValueError("no Safe transactions")
        if decision == "reject":
            first_hash = str(txs[0]["safe_tx_hash"])
            doc: dict[str, Any] = {
                "types": REJECTION_TYPES,
                "primaryType": "BulwarkRejection",
                "domain": {**REJECTION_DOMAIN, "chainId": chain_id},
                "message": {"proposal": str(proposal["id"]), "safeTxHash": first_hash, "reason": reason},
            }
            return [{"step": "reject", "hash": first_hash, "typed_data": doc}]
        out = []
        for t in txs:
            tx = SafeTx(
                to=Address(to_checksum_address(str(t["to"]))),
                data=bytes.fromhex(str(t["data"]).removeprefix("0x")),
                nonce=int(t["nonce"]),
                value=int(t.get("value", 0)),
                operation=Operation(int(t.get("operation", 0))),
            )
            doc = tx.typed_data(chain_id, Address(safe))
            # JSON for the wallet: bytes as hex.
            doc["message"] = {**doc["message"], "data": "0x" + tx.data.hex()}
            out.append({"step": str(t.get("step", "")), "hash": str(t["safe_tx_hash"]), "typed_data": doc})
        return out
    except (KeyError, TypeError, ValueError) as exc:
        raise SignatureRejected(
            f"proposal {proposal.get('id', '?')} cannot be signed from the dashboard: "
            f"its stored transactions are incomplete ({type(exc).__name__}: {exc})"
        ) from exc


def _bytes(sig: str) -> bytes:
    text = sig[2:] if sig.startswith(("0x", "0X")) else sig
    try:
        raw = bytes.fromhex(text)
    except ValueError:
        raise SignatureRejected("a signature is not hex") from None
    if len(raw) != 65:
        raise SignatureRejected(f"a signature must be 65 bytes, got {len(raw)}")
    if raw[64] in (0, 1):  # some wallets answer with v = 0/1
        raw = raw[:64] + bytes([raw[64] + 27])
    return raw


def recover(typed_data: Mapping[str, Any], signature: bytes) -> str:
    """The checksummed address that signed ``typed_data`` (EIP-712, as ``eth_signTypedData_v4``)."""
    # Imported here: eth-account takes seconds to import and most dashboard requests never sign.
    from eth_account import Account
    from eth_account.messages import encode_typed_data

    try:
        signable = encode_typed_data(full_message=dict(typed_data))
        return str(Account.recover_message(signable, signature=signature))
    except Exception as exc:  # eth-account raises a zoo of types for malformed input
        raise SignatureRejected(f"the signature does not recover ({type(exc).__name__})") from None


def check(
    proposal: Mapping[str, Any],
    decision: Decision,
    claimed_signer: str,
    signatures: Sequence[str],
    reason: str = "",
) -> SignedDecision:
    """Recover every signature; refuse unless all come from ``claimed_signer`` and it is eligible."""
    if not is_address(claimed_signer):
        raise SignatureRejected(f"{claimed_signer!r} is not an address")
    signer = to_checksum_address(claimed_signer)
    if len(reason) > MAX_REASON:
        raise SignatureRejected(f"the reason is longer than {MAX_REASON} characters")
    requests = signing_requests(proposal, decision, reason)
    if len(signatures) != len(requests):
        raise SignatureRejected(f"expected {len(requests)} signature(s), got {len(signatures)}")
    eligible = {str(a).lower() for a in proposal.get("eligible", [])}
    if eligible and signer.lower() not in eligible:
        raise SignatureRejected(f"{signer} is not eligible to sign proposal {proposal.get('id')}")
    blob = b""
    for req, sig in zip(requests, signatures, strict=True):
        raw = _bytes(sig)
        who = recover(req["typed_data"], raw)
        if who != signer:
            raise SignatureRejected(
                f"the {req['step']} signature was made by {who}, not {signer} "
                "(wrong account or wrong message)"
            )
        blob += raw
    return SignedDecision(str(proposal["id"]), decision, signer, blob, reason)
