"""Carry an approved proposal through the Safe and the timelock, check the result, then resume.

    result = await execute_upgrade(client, store, upgrade.id, sender=relayer, smoke=calls)
    resumed = await resume(client, store, unpause.id, sender=relayer, smoke=calls)

Order for an upgrade: refuse unless approved (threshold met, no veto), the evidence is a passing
verdict in the store whose candidate is the code at the implementation address, and that code
still hashes to what was proposed (a tampered or unverified candidate never goes live); Safe ->
``timelock.schedule``; wait the delay (a countdown); Safe -> ``timelock.execute``; post-checks
(ERC-1967 slot, code hash, smoke calls simulated as if unpaused). A failed check leaves the
protocol paused, marks the proposal FAILED, writes a critical alert to the store and escalates
the incident. An unpause runs only after its upgrade executed and passed.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Sequence
from typing import Any

from bulwark.chain import CallReverted, ChainClient, Signer, TxRequest
from bulwark.chain.abi import encode_call
from bulwark.chain.bytecode import runtime_is_verified
from bulwark.chain.eip1967 import implementation_of
from bulwark.chain.safe import (
    SafeSignature,
    SafeTx,
    checksum,
    pack_signatures,
    recover_signer,
    split_signatures,
)
from bulwark.chain.timelock import (
    ERRORS,
    PAUSABLE_SLOT,
    TIMELOCK_ABI,
    code_hash,
    is_paused,
    safe_abi,
    view,
)
from bulwark.domain import IncidentState, Receipt
from bulwark.domain.govern import (
    ExecutionResult,
    GovAction,
    PostCheck,
    Proposal,
    ProposalState,
    SafeTxSpec,
    SmokeCall,
    can_move,
)
from bulwark.errors import (
    ExecutionError,
    PostCheckFailed,
    ProposalStateError,
    SafeError,
    StoreError,
    TamperedCandidate,
)
from bulwark.logs import get_logger
from bulwark.store import Store

log = get_logger(__name__)

Countdown = Callable[[int], None]
KIND = "proposal"


# ----------------------------------------------------------------------------- store access


def _load(store: Store, proposal_id: str) -> tuple[Proposal, ProposalState]:
    try:
        kind, state, body = store.artifact(proposal_id)
    except StoreError:
        raise ExecutionError(f"no proposal {proposal_id!r}; list them with `bulwark proposals`") from None
    if kind != KIND:
        raise ExecutionError(f"{proposal_id!r} is a {kind}, not a proposal")
    return Proposal.from_json(body), ProposalState(state)


def _move(store: Store, proposal_id: str, to: ProposalState, reason: str) -> None:
    _, current = _load(store, proposal_id)
    if current is to:
        return
    if not can_move(current, to):
        raise ProposalStateError(f"proposal {proposal_id} cannot go from {current.value} to {to.value}")
    store.set_artifact_state(proposal_id, to.value, reason)


def _approvals(store: Store, p: Proposal, owners: Sequence[str]) -> list[list[SafeSignature]]:
    """Per Safe transaction, the stored approvals re-checked (recover over the hash, owner, eligible)."""
    owner_set = {o.lower() for o in owners}
    eligible = {e.lower() for e in p.eligible}
    per_tx: list[list[SafeSignature]] = [[] for _ in p.safe_txs]
    rejected = []
    for signer, decision, sig in store.signatures(p.id):
        if decision != "approve":
            rejected.append(signer)
            continue
        if signer.lower() not in owner_set or signer.lower() not in eligible:
            log.warning("stored approval from a non-owner ignored", proposal=p.id, signer=signer)
            continue
        try:
            parts = split_signatures(bytes.fromhex(sig[2:]))
            if len(parts) != len(p.safe_txs) or any(
                recover_signer(t.safe_tx_hash, part) != checksum(signer)
                for t, part in zip(p.safe_txs, parts, strict=False)
            ):
                raise SafeError("does not recover to its signer over this proposal")
        except SafeError as exc:
            log.warning("stored approval ignored", proposal=p.id, signer=signer, why=exc.user_message)
            continue
        for i, part in enumerate(parts):
            per_tx[i].append(SafeSignature(owner=checksum(signer), signature=part))
    if rejected:
        raise ProposalStateError(f"proposal {p.id} was rejected by {', '.join(rejected)}: it never executes")
    have = len(per_tx[0]) if per_tx else 0
    if have < p.threshold:
        raise ProposalStateError(
            f"proposal {p.id} has {have} valid approval(s), its policy needs {p.threshold}: "
            "one signature is not enough"
        )
    return per_tx


# ----------------------------------------------------------------------------- chain steps


def _safe_tx(t: SafeTxSpec) -> SafeTx:
    from bulwark.chain.safe import Operation

    return SafeTx(to=t.to, data=bytes.fromhex(t.data[2:]), nonce=t.nonce, operation=Operation(t.operation))


async def _exec_safe_tx(
    client: ChainClient, p: Proposal, t: SafeTxSpec, sigs: Sequence[SafeSignature], sender: Signer | Any
) -> Receipt:
    sabi = safe_abi()
    onchain_nonce = int(await view(client, p.safe, sabi, "nonce"))
    if onchain_nonce != t.nonce:
        raise ProposalStateError(
            f"the Safe's nonce is {onchain_nonce}, proposal {p.id} was signed for {t.nonce}: "
            "another Safe transaction went first; propose again"
        )
    tx = _safe_tx(t)
    errors = list(ERRORS)
    if t.operation == 0:
        # Surface the inner call's revert reason: once mined the Safe only says GS013.
        await client.call(TxRequest(to=t.to, data=tx.data), sender=p.safe, abi=errors)
    data = encode_call(sabi, "execTransaction", *tx.args(), pack_signatures(sigs))
    receipt = await client.transact(TxRequest(to=p.safe, data=data), sender=sender, abi=[*sabi, *errors])
    log.info("safe transaction executed", proposal=p.id, step=t.step, tx=receipt.tx_hash, nonce=t.nonce)
    return receipt


async def _timelock_stage(client: ChainClient, p: Proposal) -> str:
    """``unknown``, ``scheduled`` or ``done``: the proposal's operation as the timelock knows it."""
    op = bytes.fromhex(p.timelock_op.operation_id[2:])
    ready_at = int(await view(client, p.timelock, TIMELOCK_ABI, "getTimestamp", op))
    return "unknown" if ready_at == 0 else "done" if ready_at == 1 else "scheduled"


async def _wait_ready(
    client: ChainClient,
    p: Proposal,
    *,
    wait: bool,
    time_travel: bool,
    on_countdown: Countdown | None,
    poll_s: float,
    clock: Callable[[], float],
) -> None:
    op = bytes.fromhex(p.timelock_op.operation_id[2:])
    ready_at = int(await view(client, p.timelock, TIMELOCK_ABI, "getTimestamp", op))
    if ready_at <= 1:  # 0: unknown, 1: done
        raise ExecutionError(f"timelock operation {p.timelock_op.operation_id} is not scheduled")
    last = None
    while True:
        head = (await client.get_block("latest")).timestamp
        remaining = ready_at - max(head, int(clock()))
        if remaining != last:
            log.info("timelock countdown", proposal=p.id, remaining_s=max(remaining, 0), ready_at=ready_at)
            if on_countdown is not None:
                on_countdown(max(remaining, 0))
            last = remaining
        if remaining <= 0:
            if head < ready_at:  # the next block will carry a timestamp past the delay
                await client.set_next_block_timestamp(max(ready_at, int(clock())))
            return
        if time_travel:
            await client.set_next_block_timestamp(ready_at)
            await client.mine()
            continue
        if not wait:
            raise ProposalStateError(
                f"proposal {p.id} is scheduled; the timelock delay has {remaining}s left "
                f"(ready at {ready_at}): execute again then"
            )
        await asyncio.sleep(min(poll_s, remaining))


# ----------------------------------------------------------------------------- checks


async def _smoke(client: ChainClient, calls: Sequence[SmokeCall], unpaused: str | None) -> list[PostCheck]:
    """``eth_call`` each smoke call; with ``unpaused`` set, simulate that proxy as unpaused (a
    state override of OpenZeppelin's Pausable slot) since the real unpause comes only after."""
    out = []
    overrides: dict[str, Any] = {}
    if unpaused is not None:
        overrides = {unpaused: {"stateDiff": {PAUSABLE_SLOT: "0x" + "00" * 32}}}
    for c in calls:
        tx = TxRequest(to=c.to, data=bytes.fromhex(c.data[2:])).to_rpc(c.sender)
        try:
            params: list[Any] = [tx, "latest", overrides] if overrides else [tx, "latest"]
            await client.request("eth_call", params)
            out.append(PostCheck(f"smoke:{c.label}", True))
        except CallReverted as exc:
            out.append(PostCheck(f"smoke:{c.label}", False, f"reverted: {exc.reason or exc}"))
    return out


async def _upgrade_checks(client: ChainClient, p: Proposal, smoke: Sequence[SmokeCall]) -> list[PostCheck]:
    live = await implementation_of(client, p.proxy)
    checks = [
        PostCheck(
            "implementation-slot",
            live == p.implementation,
            f"ERC-1967 slot holds {live}, the verified implementation is {p.implementation}",
        )
    ]
    got = await code_hash(client, live)
    checks.append(
        PostCheck(
            "code-hash",
            got == p.implementation_codehash,
            f"runtime code hash {got}, proposed {p.implementation_codehash}",
        )
    )
    checks += await _smoke(client, smoke, unpaused=p.proxy)
    return checks


async def _unpause_checks(client: ChainClient, p: Proposal, smoke: Sequence[SmokeCall]) -> list[PostCheck]:
    paused = await is_paused(client, p.proxy)
    return [PostCheck("unpaused", not paused, f"paused() is {paused}"), *await _smoke(client, smoke, None)]


async def _parameter_checks(client: ChainClient, p: Proposal, smoke: Sequence[SmokeCall]) -> list[PostCheck]:
    """A parameter change: its timelock operation is done, and the smoke calls still pass (the
    proxy simulated as unpaused: the protocol resumes only through its own proposal)."""
    op = bytes.fromhex(p.timelock_op.operation_id[2:])
    done = bool(await view(client, p.timelock, TIMELOCK_ABI, "isOperationDone", op))
    checks = [PostCheck("timelock-op-done", done, f"isOperationDone({p.timelock_op.operation_id}) is {done}")]
    return checks + await _smoke(client, smoke, unpaused=p.proxy)


def _alert(store: Store, p: Proposal, what: str, detail: dict[str, Any]) -> None:
    """A critical alert: structured log, an audit record and the incident escalated."""
    log.critical(what, proposal=p.id, component=p.component, proxy=p.proxy, **detail)
    store.audit("alert.critical", {"what": what, "proposal": p.id, "proxy": p.proxy, **detail}, p.incident_id)
    if p.incident_id is None:
        return
    try:
        store.transition(p.incident_id, IncidentState.ESCALATED, what, {"proposal": p.id, **detail})
    except StoreError as exc:
        log.error("cannot escalate incident", incident=p.incident_id, why=str(exc))


# ----------------------------------------------------------------------------- entry points


async def execute_proposal(
    client: ChainClient,
    store: Store,
    proposal_id: str,
    *,
    sender: Signer | Any,
    smoke: Sequence[SmokeCall] = (),
    wait: bool = True,
    time_travel: bool = False,
    on_countdown: Countdown | None = None,
    poll_s: float = 1.0,
    clock: Callable[[], float] = time.time,
) -> ExecutionResult:
    """Run an approved proposal (upgrade or unpause) end to end; see the module docstring.

    ``sender`` submits the signed Safe transactions (any funded key: a relayer). ``wait=False``
    returns control while the delay runs (raises :class:`ProposalStateError` saying how long is
    left; call again later). ``time_travel`` moves a dev chain's clock instead of waiting.
    """
    p, state = _load(store, proposal_id)
    if state is ProposalState.EXECUTED:
        return ExecutionResult(p.id, state)
    if state in (ProposalState.REJECTED, ProposalState.EXPIRED, ProposalState.FAILED):
        raise ProposalStateError(f"proposal {p.id} is {state.value}: it never executes")
    owners = [checksum(o) for o in await view(client, p.safe, safe_abi(), "getOwners")]
    sigs = _approvals(store, p, owners)
    if state is ProposalState.PENDING:
        _move(store, p.id, ProposalState.APPROVED, "threshold met")
        state = ProposalState.APPROVED

    if p.action is GovAction.UNPAUSE and p.depends_on is not None:
        _, dep_state = _load(store, p.depends_on)
        if dep_state is not ProposalState.EXECUTED:
            raise ProposalStateError(
                f"unpause {p.id} waits for upgrade {p.depends_on}, which is {dep_state.value}: "
                "the protocol stays paused"
            )
    if p.action is GovAction.UPGRADE:
        await _refuse_tampered(client, store, p)
    elif p.action is GovAction.PARAMETERS:
        await _refuse_unverified(client, store, p)

    txs: list[str] = []
    # What the timelock already did: a process killed after sending a Safe transaction and before
    # recording it finds it here, and never sends it again (the Safe's nonce moved on).
    done_on_chain = await _timelock_stage(client, p)
    if len(p.safe_txs) == 1:  # schedule+execute in one MultiSend batch (no delay)
        if done_on_chain != "done":
            txs.append((await _exec_safe_tx(client, p, p.safe_txs[0], sigs[0], sender)).tx_hash)
    else:
        if state is ProposalState.APPROVED:
            if done_on_chain == "unknown":
                txs.append((await _exec_safe_tx(client, p, p.safe_txs[0], sigs[0], sender)).tx_hash)
            _move(
                store,
                p.id,
                ProposalState.SCHEDULED,
                f"scheduled on the timelock, delay {p.timelock_op.delay_s}s",
            )
        if done_on_chain != "done":
            await _wait_ready(
                client,
                p,
                wait=wait,
                time_travel=time_travel,
                on_countdown=on_countdown,
                poll_s=poll_s,
                clock=clock,
            )
            if p.action is GovAction.UPGRADE:
                await _refuse_tampered(client, store, p)
            txs.append((await _exec_safe_tx(client, p, p.safe_txs[1], sigs[1], sender)).tx_hash)

    if p.action is GovAction.UPGRADE:
        checks = await _upgrade_checks(client, p, smoke)
    elif p.action is GovAction.PARAMETERS:
        checks = await _parameter_checks(client, p, smoke)
    else:
        checks = await _unpause_checks(client, p, smoke)
    failed = [c for c in checks if not c.ok]
    if failed:
        _move(store, p.id, ProposalState.FAILED, "post-check failed: " + ", ".join(c.name for c in failed))
        _alert(
            store,
            p,
            "post-upgrade check failed; the protocol stays paused"
            if p.action is GovAction.UPGRADE
            else "post-unpause check failed",
            {"failed": [f"{c.name}: {c.detail}" for c in failed], "txs": txs},
        )
        raise PostCheckFailed(
            f"{p.action.value} of {p.component} went through but its checks failed ("
            + "; ".join(f"{c.name}: {c.detail}" for c in failed)
            + "): the protocol stays paused, the incident is escalated"
        )
    _move(store, p.id, ProposalState.EXECUTED, "executed; post-checks passed")
    store.audit(
        f"{p.action.value}.executed",
        {"proposal": p.id, "txs": txs, "checks": [c.name for c in checks], "evidence_hash": p.evidence_hash},
        p.incident_id,
    )
    log.info("proposal executed", proposal=p.id, action=p.action.value, txs=txs, checks=len(checks))
    return ExecutionResult(p.id, ProposalState.EXECUTED, tuple(txs), tuple(checks))


def _refuse(store: Store, p: Proposal, what: str, detail: dict[str, Any], message: str) -> None:
    _move(store, p.id, ProposalState.FAILED, what)
    _alert(store, p, what, detail)
    raise TamperedCandidate(message)


async def _refuse_unverified(client: ChainClient, store: Store, p: Proposal) -> None:
    """The proposal's evidence must still be a passing verdict in the store and, for an upgrade,
    its candidate must be the code at the implementation address (checked again, not trusted
    from propose time: the store row could have been swapped since)."""
    try:
        recorded = store.verdict(p.evidence_hash)
    except StoreError as exc:
        recorded, why = None, exc.user_message
    else:
        why = f"no verdict with evidence hash {p.evidence_hash} in the store"
    if recorded is not None and not recorded.passed:
        why = f"the verdict {p.evidence_hash} did not pass ({'; '.join(recorded.reasons)})"
    elif recorded is not None and p.action is GovAction.UPGRADE:
        assert p.implementation is not None
        if not runtime_is_verified(await client.get_code(p.implementation), recorded):
            why = (
                f"the code at {p.implementation} is not the candidate the verdict {p.evidence_hash} verified"
            )
        else:
            return
    elif recorded is not None:
        return
    _refuse(
        store,
        p,
        "unverified proposal refused",
        {"evidence_hash": p.evidence_hash, "why": why},
        f"{why}: {p.action.value} {p.id} refused, the protocol stays paused",
    )


async def _refuse_tampered(client: ChainClient, store: Store, p: Proposal) -> None:
    assert p.implementation is not None
    got = await code_hash(client, p.implementation)
    if got != p.implementation_codehash:
        _move(store, p.id, ProposalState.FAILED, "implementation code changed since the proposal")
        _alert(
            store,
            p,
            "tampered candidate refused",
            {"implementation": p.implementation, "expected": p.implementation_codehash, "found": got},
        )
        raise TamperedCandidate(
            f"the code at {p.implementation} hashes to {got}, the verified candidate to "
            f"{p.implementation_codehash}: upgrade refused, the protocol stays paused"
        )
    await _refuse_unverified(client, store, p)


async def execute_upgrade(
    client: ChainClient, store: Store, proposal_id: str, **kwargs: Any
) -> ExecutionResult:
    """:func:`execute_proposal` for an upgrade proposal (refuses any other kind)."""
    p, _ = _load(store, proposal_id)
    if p.action is not GovAction.UPGRADE:
        raise ExecutionError(f"{proposal_id} is an {p.action.value}, not an upgrade")
    return await execute_proposal(client, store, proposal_id, **kwargs)


async def resume(client: ChainClient, store: Store, proposal_id: str, **kwargs: Any) -> ExecutionResult:
    """:func:`execute_proposal` for an unpause proposal, after its upgrade executed and passed."""
    p, _ = _load(store, proposal_id)
    if p.action is not GovAction.UNPAUSE:
        raise ExecutionError(f"{proposal_id} is an {p.action.value}, not an unpause")
    return await execute_proposal(client, store, proposal_id, **kwargs)
