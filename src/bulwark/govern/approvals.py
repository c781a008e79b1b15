"""Approvals: EIP-712 signatures over a proposal's Safe transaction hashes, checked before storing.

A signer approves by signing every Safe transaction of the proposal (one, or schedule and
execute). Each signature must recover to the claimed signer over *this* proposal's hash, the
signer must be a Safe owner on chain and eligible under the proposal's rule, may sign only once,
and only before the proposal expires. A signer may instead reject (veto) the proposal with a
signed message; a rejected proposal never executes.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

from eth_account import Account
from eth_account.messages import encode_typed_data

from bulwark.chain import ChainClient
from bulwark.chain.safe import SafeTx, checksum, recover_signer, sign_safe_tx, split_signatures
from bulwark.chain.timelock import safe_abi, view
from bulwark.domain import Address
from bulwark.domain.govern import Proposal, ProposalState, SignatureStatus
from bulwark.errors import SafeError, SignatureRejected
from bulwark.govern.proposal import load, set_state
from bulwark.logs import get_logger
from bulwark.store import Store

log = get_logger(__name__)

APPROVE, REJECT = "approve", "reject"


def status(store: Store, proposal_id: str) -> SignatureStatus:
    proposal, state = load(store, proposal_id)
    signed: list[Address] = []
    rejected: list[Address] = []
    for signer, decision, _ in store.signatures(proposal_id):
        (signed if decision == APPROVE else rejected).append(Address(signer))
    return SignatureStatus(
        proposal_id=proposal_id,
        state=state,
        threshold=proposal.threshold,
        eligible=proposal.eligible,
        signed=tuple(signed),
        rejected_by=tuple(rejected),
        expires_at=proposal.expires_at,
    )


def sign(proposal: Proposal, private_key: str) -> bytes:
    """An owner's approval: its signature of each Safe transaction, concatenated."""
    out = b""
    for t in proposal.safe_txs:
        tx = SafeTx(to=t.to, data=bytes.fromhex(t.data[2:]), nonce=t.nonce, operation=t.operation)  # type: ignore[arg-type]
        out += sign_safe_tx(tx, proposal.chain_id, proposal.safe, private_key).signature
    return out


# A veto is an EIP-712 message too, so that a browser wallet (``eth_signTypedData_v4``) and a key
# on the command line sign the same thing: the proposal, its first Safe tx hash and the reason.
REJECTION_DOMAIN: dict[str, Any] = {"name": "Bulwark", "version": "1"}
REJECTION_TYPES: dict[str, list[dict[str, str]]] = {
    "EIP712Domain": [
        {"name": "name", "type": "string"},
        {"name": "version", "type": "string"},
        {"name": "chainId", "type": "uint256"},
    ],
    "BulwarkRejection": [
        {"name": "proposal", "type": "string"},
        {"name": "safeTxHash", "type": "bytes32"},
        {"name": "reason", "type": "string"},
    ],
}


def rejection_typed_data(proposal: Proposal, reason: str = "") -> dict[str, Any]:
    return {
        "types": REJECTION_TYPES,
        "primaryType": "BulwarkRejection",
        "domain": {**REJECTION_DOMAIN, "chainId": proposal.chain_id},
        "message": {
            "proposal": proposal.id,
            "safeTxHash": proposal.safe_txs[0].safe_tx_hash,
            "reason": reason,
        },
    }


def check_approval(
    proposal: Proposal,
    state: ProposalState,
    signer: str,
    blob: bytes,
    owners: Sequence[str],
    already: Sequence[str],
    now: float,
) -> Address:
    """Why ``blob`` from ``signer`` cannot count toward ``proposal``, as :class:`SignatureRejected`;
    the checksummed signer when it can. Pure: the caller reads ``owners`` from the Safe."""
    who = checksum(signer)
    if state is ProposalState.REJECTED:
        raise SignatureRejected(f"proposal {proposal.id} was rejected: it takes no more signatures")
    if state is ProposalState.EXPIRED or now > proposal.expires_at:
        when = time.strftime("%Y-%m-%d %H:%M:%SZ", time.gmtime(proposal.expires_at))
        raise SignatureRejected(f"proposal {proposal.id} expired at {when}: propose again")
    if state not in (ProposalState.PENDING, ProposalState.APPROVED):
        raise SignatureRejected(f"proposal {proposal.id} is {state.value}: it takes no more signatures")
    if who.lower() not in {o.lower() for o in owners}:
        raise SignatureRejected(f"{who} is not an owner of the Safe {proposal.safe}")
    if who.lower() not in {e.lower() for e in proposal.eligible}:
        raise SignatureRejected(f"{who} is a Safe owner but may not sign a {proposal.action.value} here")
    if who.lower() in {a.lower() for a in already}:
        raise SignatureRejected(f"{who} has already signed proposal {proposal.id} (a duplicate or replay)")
    try:
        parts = split_signatures(blob)
    except SafeError as exc:
        raise SignatureRejected(f"malformed signature from {who}: {exc.user_message}") from None
    if len(parts) != len(proposal.safe_txs):
        raise SignatureRejected(
            f"proposal {proposal.id} needs {len(proposal.safe_txs)} signature(s) from {who}, got {len(parts)}"
        )
    for t, part in zip(proposal.safe_txs, parts, strict=True):
        try:
            recovered = recover_signer(t.safe_tx_hash, part)
        except SafeError as exc:
            raise SignatureRejected(f"signature from {who} is invalid: {exc.user_message}") from None
        if recovered != who:
            raise SignatureRejected(
                f"the signature from {who} is not over proposal {proposal.id}'s {t.step} hash "
                f"{t.safe_tx_hash} (it signs another hash, or was made by {recovered})"
            )
    return who


async def safe_owners(client: ChainClient, safe: str) -> list[Address]:
    return [checksum(o) for o in await view(client, safe, safe_abi(), "getOwners")]


async def submit_signature(
    client: ChainClient, store: Store, proposal_id: str, signer: str, blob: bytes, *, now: float | None = None
) -> SignatureStatus:
    """Check an approval against the Safe's owners on chain and the proposal, then store it."""
    proposal, state = load(store, proposal_id)
    moment = time.time() if now is None else now
    if state is ProposalState.PENDING and moment > proposal.expires_at:
        set_state(store, proposal_id, ProposalState.EXPIRED, "signature arrived after expiry")
        state = ProposalState.EXPIRED
    owners = await safe_owners(client, proposal.safe)
    already = [s for s, _, _ in store.signatures(proposal_id)]
    who = check_approval(proposal, state, signer, blob, owners, already, moment)
    store.add_signature(proposal_id, who, APPROVE, "0x" + blob.hex())
    st = status(store, proposal_id)
    log.info("approval stored", proposal=proposal_id, signer=who, signed=len(st.signed), needed=st.threshold)
    if st.met and st.state is ProposalState.PENDING:
        set_state(store, proposal_id, ProposalState.APPROVED, f"{len(st.signed)} of {st.threshold} signed")
        st = status(store, proposal_id)
    return st


async def approve(
    client: ChainClient, store: Store, proposal_id: str, private_key: str, *, now: float | None = None
) -> SignatureStatus:
    """Sign the proposal with ``private_key`` and submit the signature."""
    proposal, _ = load(store, proposal_id)
    signer = Address(Account.from_key(private_key).address)
    return await submit_signature(client, store, proposal_id, signer, sign(proposal, private_key), now=now)


async def approve_missing(
    client: ChainClient, store: Store, proposal_id: str, private_keys: Sequence[str]
) -> SignatureStatus:
    """Sign with each of ``private_keys`` whose owner has not signed yet: safe to repeat after a
    restart (a signature already stored is never submitted twice)."""
    signed = {s.lower() for s, _, _ in store.signatures(proposal_id)}
    st = status(store, proposal_id)
    for key in private_keys:
        if Account.from_key(key).address.lower() not in signed:
            st = await approve(client, store, proposal_id, key)
    return st


async def submit_rejection(
    client: ChainClient,
    store: Store,
    proposal_id: str,
    signer: str,
    signature: bytes,
    *,
    reason: str = "",
) -> SignatureStatus:
    """An eligible owner's signed veto (EIP-712 ``BulwarkRejection``): the proposal moves to
    REJECTED and never executes."""
    proposal, state = load(store, proposal_id)
    who = checksum(signer)
    if state not in (ProposalState.PENDING, ProposalState.APPROVED, ProposalState.SCHEDULED):
        raise SignatureRejected(f"proposal {proposal_id} is {state.value}: nothing to reject")
    owners = {o.lower() for o in await safe_owners(client, proposal.safe)}
    if who.lower() not in owners or who.lower() not in {e.lower() for e in proposal.eligible}:
        raise SignatureRejected(f"{who} may not reject proposal {proposal_id}: not an eligible Safe owner")
    try:
        signable = encode_typed_data(full_message=rejection_typed_data(proposal, reason))
        recovered = checksum(Account.recover_message(signable, signature=signature))
    except Exception as exc:  # eth-account raises many types for a malformed signature
        raise SignatureRejected(f"the rejection signature does not recover ({type(exc).__name__})") from None
    if recovered != who:
        raise SignatureRejected(
            f"the rejection was signed by {recovered}, not {who} (wrong account, proposal or reason)"
        )
    if who.lower() in {s.lower() for s, _, _ in store.signatures(proposal_id)}:
        raise SignatureRejected(f"{who} has already signed proposal {proposal_id}")
    store.add_signature(proposal_id, who, REJECT, "0x" + signature.hex())
    set_state(store, proposal_id, ProposalState.REJECTED, f"rejected by {who}: {reason}".strip(": "))
    log.warning("proposal rejected", proposal=proposal_id, signer=who, reason=reason)
    return status(store, proposal_id)


async def reject(
    client: ChainClient,
    store: Store,
    proposal_id: str,
    private_key: str,
    *,
    reason: str = "",
    now: float | None = None,
) -> SignatureStatus:
    """Sign a veto of the proposal with ``private_key`` and submit it."""
    proposal, _ = load(store, proposal_id)
    signable = encode_typed_data(full_message=rejection_typed_data(proposal, reason))
    signature = bytes(Account.sign_message(signable, private_key).signature)
    who = checksum(Account.from_key(private_key).address)
    return await submit_rejection(client, store, proposal_id, who, signature, reason=reason)
