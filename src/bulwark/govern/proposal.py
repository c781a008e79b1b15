"""Turn a passing verdict into the exact Safe transactions that upgrade a proxy, and store them.

An upgrade is ``proxy.upgradeToAndCall(impl, "")`` made by the TimelockController, which only
the Safe may schedule and execute. The timelock salt is the evidence hash, so the CallSalt event
of the scheduled operation puts the evidence on chain next to the call. With a delay the
proposal is two Safe transactions (schedule, then execute); without one, and with a
MultiSendCallOnly contract, both go in one batch. An unpause is its own proposal, whose timelock
predecessor is the upgrade's operation: the timelock refuses to run it before the upgrade.
"""

from __future__ import annotations

import hashlib
import re
import time
from typing import Any, Protocol

from bulwark.chain import ChainClient, Signer
from bulwark.chain.abi import encode_call
from bulwark.chain.bytecode import runtime_is_verified
from bulwark.chain.safe import Operation, SafeTx, checksum, safe_tx_hash
from bulwark.chain.timelock import (
    PROXY_ABI,
    PROXY_ADMIN_ABI,
    TIMELOCK_ABI,
    ZERO32,
    code_hash,
    operation_id,
    pack_multisend,
    safe_abi,
    view,
)
from bulwark.domain import Address, Hash32, Severity
from bulwark.domain.evidence import RecordedVerdict
from bulwark.domain.govern import (
    ActionRule,
    GovAction,
    Policy,
    Proposal,
    ProposalState,
    SafeTxSpec,
    TimelockOp,
    can_move,
)
from bulwark.errors import GovernanceError, ProposalStateError, StoreError
from bulwark.logs import get_logger
from bulwark.store import Store

log = get_logger(__name__)

KIND = "proposal"
_HASH_RE = re.compile(r"^0x[0-9a-fA-F]{64}$")
_OPEN = (ProposalState.PENDING, ProposalState.APPROVED, ProposalState.SCHEDULED)


class VerdictLike(Protocol):
    """What governance needs from verification (``bulwark.domain.verify.Verdict`` fits)."""

    @property
    def passed(self) -> bool: ...

    @property
    def evidence_hash(self) -> str: ...


# ----------------------------------------------------------------------------- store


def load(store: Store, proposal_id: str) -> tuple[Proposal, ProposalState]:
    try:
        kind, state, body = store.artifact(proposal_id)
    except StoreError:
        raise GovernanceError(f"no proposal {proposal_id!r}; list them with `bulwark proposals`") from None
    if kind != KIND:
        raise GovernanceError(f"{proposal_id!r} is a {kind}, not a proposal")
    return Proposal.from_json(body), ProposalState(state)


def proposals(store: Store, incident_id: str | None = None) -> list[tuple[Proposal, ProposalState]]:
    return [(Proposal.from_json(b), ProposalState(s)) for _, s, b in store.artifacts(KIND, incident_id)]


def set_state(store: Store, proposal_id: str, to: ProposalState, reason: str) -> None:
    """Move a proposal along its state machine; the change is audited by the store."""
    _, current = load(store, proposal_id)
    if current is to:
        return
    if not can_move(current, to):
        raise ProposalStateError(f"proposal {proposal_id} cannot go from {current.value} to {to.value}")
    store.set_artifact_state(proposal_id, to.value, reason)


# ----------------------------------------------------------------------------- building


def _evidence_hash(text: str) -> Hash32:
    if not _HASH_RE.match(text or ""):
        raise GovernanceError(f"evidence hash {text!r} is not a 32-byte 0x-hex hash")
    return Hash32(text.lower())


def recorded_verdict(store: Store, evidence_hash: str) -> RecordedVerdict:
    """The passing verdict stored under ``evidence_hash``; refused when there is none, when its
    document no longer hashes to it, or when it did not pass."""
    evidence = _evidence_hash(evidence_hash)
    try:
        recorded = store.verdict(evidence)
    except StoreError as exc:
        raise GovernanceError(exc.user_message) from None
    if recorded is None:
        raise GovernanceError(
            f"no verdict with evidence hash {evidence} in the store: verify the candidate first "
            "(bulwark verify --evidence-out FILE), then propose with --evidence FILE"
        )
    if not recorded.passed:
        why = "; ".join(recorded.reasons) or "no reason recorded"
        raise GovernanceError(f"the verdict {evidence} did not pass ({why}): nothing to propose")
    return recorded


async def _next_nonce(client: ChainClient, store: Store, safe: Address) -> int:
    """The Safe's nonce, past every nonce an open proposal on this Safe has already reserved."""
    nonce = int(await view(client, safe, safe_abi(), "nonce"))
    for p, state in proposals(store):
        if state in _OPEN and p.safe.lower() == safe.lower():
            nonce = max(nonce, *(t.nonce + 1 for t in p.safe_txs))
    return nonce


def timelock_calls(op: TimelockOp) -> tuple[bytes, bytes]:
    """The Safe's two calls to the timelock for ``op``: ``schedule`` then, after the delay, ``execute``."""
    data = bytes.fromhex(op.data[2:])
    pred, salt = bytes.fromhex(op.predecessor[2:]), bytes.fromhex(op.salt[2:])
    schedule = encode_call(TIMELOCK_ABI, "schedule", op.target, op.value, data, pred, salt, op.delay_s)
    execute = encode_call(TIMELOCK_ABI, "execute", op.target, op.value, data, pred, salt)
    return schedule, execute


def _safe_txs(
    policy: Policy, chain_id: int, op: TimelockOp, nonce: int, *, batch: bool
) -> tuple[SafeTxSpec, ...]:
    tl = policy.timelock
    schedule, execute = timelock_calls(op)
    if batch and policy.multisend is not None:
        calls = [(tl, 0, schedule), (tl, 0, execute)]
        specs = [("schedule+execute", policy.multisend, pack_multisend(calls), Operation.DELEGATECALL)]
    else:
        specs = [("schedule", tl, schedule, Operation.CALL), ("execute", tl, execute, Operation.CALL)]
    out = []
    for i, (step, to, payload, operation) in enumerate(specs):
        tx = SafeTx(to=checksum(to), data=payload, nonce=nonce + i, operation=operation)
        out.append(
            SafeTxSpec(
                step=step,
                to=checksum(to),
                data="0x" + payload.hex(),
                nonce=nonce + i,
                operation=int(operation),
                safe_tx_hash=safe_tx_hash(tx, chain_id, policy.safe),
            )
        )
    return tuple(out)


async def _store_new(
    client: ChainClient,
    store: Store,
    policy: Policy,
    *,
    action: GovAction,
    severity: Severity | None,
    component: str,
    call: bytes,
    evidence: Hash32,
    predecessor: Hash32,
    description: str,
    now: float | None,
    incident_id: str | None,
    note: str = "",
    implementation: Address | None = None,
    impl_codehash: Hash32 | None = None,
    depends_on: str | None = None,
    target: Address | None = None,
) -> Proposal:
    """Store a new proposal of ``action``. ``description`` says what it does; the evidence (the
    timelock salt), the delay the policy gives and ``note`` are added to it here."""
    proxy = policy.proxies[component]
    target = target or proxy  # the timelock calls the proxy, or its ProxyAdmin for an upgrade
    rule: ActionRule = policy.rule(action, severity)
    description += f"; evidence {evidence} = timelock salt; delay {rule.delay_s}s"
    if note:
        description += "\n" + note
    chain_id = await client.chain_id()
    salt = evidence
    op = TimelockOp(
        target=target,
        data="0x" + call.hex(),
        predecessor=predecessor,
        salt=salt,
        delay_s=rule.delay_s,
        operation_id=operation_id(target, 0, call, bytes.fromhex(predecessor[2:]), bytes.fromhex(salt[2:])),
    )
    if await view(client, policy.timelock, TIMELOCK_ABI, "isOperation", bytes.fromhex(op.operation_id[2:])):
        raise GovernanceError(
            f"the timelock already knows operation {op.operation_id} ({action.value} {component} with "
            "this evidence): it was proposed before"
        )
    nonce = await _next_nonce(client, store, policy.safe)
    txs = _safe_txs(policy, chain_id, op, nonce, batch=rule.delay_s == 0)
    created = time.time() if now is None else now
    proposal = Proposal(
        id=f"prop-{txs[0].safe_tx_hash[2:14]}",
        protocol=policy.protocol,
        action=action,
        severity=severity,
        chain_id=chain_id,
        safe=policy.safe,
        timelock=policy.timelock,
        component=component,
        proxy=proxy,
        evidence_hash=evidence,
        timelock_op=op,
        safe_txs=txs,
        threshold=rule.threshold,
        eligible=policy.eligible(rule),
        created_at=created,
        expires_at=created + rule.ttl_s,
        description=description,
        implementation=implementation,
        implementation_codehash=impl_codehash,
        depends_on=depends_on,
        incident_id=incident_id,
    )
    store.put_artifact(
        proposal.id, KIND, proposal.to_json(), incident_id=incident_id, state=ProposalState.PENDING.value
    )
    log.info(
        "proposal stored",
        proposal=proposal.id,
        action=action.value,
        component=component,
        evidence_hash=evidence,
        safe_txs=[t.step for t in txs],
        threshold=rule.threshold,
        delay_s=rule.delay_s,
    )
    return proposal


async def propose_upgrade(
    client: ChainClient,
    store: Store,
    policy: Policy,
    verdict: VerdictLike,
    *,
    component: str,
    implementation: bytes | str,
    deployer: Signer | Address | None = None,
    severity: Severity | None = None,
    incident_id: str | None = None,
    now: float | None = None,
    note: str = "",
    proxy_admin: Address | None = None,
) -> Proposal:
    """Deploy the verified implementation (``bytes``: its creation code, from ``deployer``) or
    take an already deployed one (an address), and store the proposal that upgrades to it.

    ``verdict`` only names the evidence: its document must be in the store (it is re-hashed), it
    must have passed, and the code must be its candidate (creation code sha256, and the runtime
    code read from the chain, immutables masked). The runtime code hash at the address is
    recorded: execution refuses an address whose code has changed since. ``note`` (the remedy's impact
    report) is appended to the description, so signers see the cost next to the change.
    """
    if not verdict.passed:
        raise GovernanceError("the verdict did not pass: nothing to propose")
    # Only the stored evidence is trusted: whether it passed and which code it verified.
    recorded = recorded_verdict(store, verdict.evidence_hash)
    evidence = Hash32(recorded.evidence_hash)
    if recorded.kind != "code" or recorded.runtime_code_sha256 is None:
        raise GovernanceError(f"the verdict {evidence} verified no implementation: it cannot back an upgrade")
    if component not in policy.proxies:
        raise GovernanceError(
            f"no proxy {component!r} in the policy of {policy.protocol} (have: {', '.join(policy.proxies)})"
        )
    if isinstance(implementation, bytes | bytearray):
        expected = recorded.creation_code_sha256
        actual = "0x" + hashlib.sha256(bytes(implementation)).hexdigest()
        if expected is not None and expected != actual:
            raise GovernanceError(
                f"the implementation's creation code hashes to {actual}, the evidence says {expected}: "
                "this is not the verified candidate"
            )
        if deployer is None:
            raise GovernanceError("a deployer (relayer key) is needed to deploy the implementation")
        impl = checksum(await client.deploy((), bytes(implementation), sender=deployer))
        log.info("implementation deployed", component=component, address=impl)
    else:
        impl = checksum(implementation)
    runtime = await client.get_code(impl)
    if not runtime:
        raise GovernanceError(f"no contract at the implementation address {impl}")
    if not runtime_is_verified(runtime, recorded):
        raise GovernanceError(
            f"the code at {impl} is not the candidate the verdict {evidence} verified "
            f"({recorded.candidate_contract or 'unnamed'}, runtime sha256 {recorded.runtime_code_sha256}): "
            "propose the verified implementation"
        )
    codehash = await code_hash(client, impl)
    proxy = policy.proxies[component]
    if proxy_admin is not None:  # a Transparent proxy: only its ProxyAdmin may upgrade it
        call = encode_call(PROXY_ADMIN_ABI, "upgradeAndCall", proxy, impl, b"")
    else:  # UUPS (or a proxy that upgrades itself)
        call = encode_call(PROXY_ABI, "upgradeToAndCall", impl, b"")
    via = f" through its ProxyAdmin {proxy_admin}" if proxy_admin is not None else ""
    return await _store_new(
        client,
        store,
        policy,
        action=GovAction.UPGRADE,
        severity=severity,
        component=component,
        call=call,
        evidence=evidence,
        predecessor=ZERO32,
        description=f"upgrade {component} ({proxy}){via} to {impl} (code {codehash})",
        note=note,
        now=now,
        incident_id=incident_id,
        implementation=impl,
        impl_codehash=codehash,
        target=proxy_admin,
    )


async def propose_unpause(
    client: ChainClient,
    store: Store,
    policy: Policy,
    *,
    after: str,
    severity: Severity | None = None,
    now: float | None = None,
    component: str | None = None,
) -> Proposal:
    """The unpause that follows the upgrade proposal ``after``: its own proposal and threshold,
    the same evidence hash as salt, and the upgrade's timelock operation as predecessor.

    ``component`` unpauses another proxy of the protocol that the containment paused alongside
    (default: the upgraded one); it too can only run once the upgrade has executed."""
    return await propose_unpause_after(
        client,
        store,
        policy,
        after=after,
        of=GovAction.UPGRADE,
        component=component,
        severity=severity,
        now=now,
    )


_REMEDY_NAMES = {
    GovAction.UPGRADE: ("an upgrade", "upgrade"),
    GovAction.PARAMETERS: ("a parameter", "parameter change"),
}


async def propose_unpause_after(
    client: ChainClient,
    store: Store,
    policy: Policy,
    *,
    after: str,
    of: GovAction,
    component: str | None = None,
    severity: Severity | None = None,
    now: float | None = None,
) -> Proposal:
    """The unpause of ``component`` (default: the remedied one) once the remedy proposal ``after``
    (an upgrade or the last parameter change of its chain, as ``of`` says) has executed: its own
    proposal and threshold, the same evidence hash as salt, the remedy's operation as predecessor."""
    prior, state = load(store, after)
    article, noun = _REMEDY_NAMES[of]
    if prior.action is not of:
        raise GovernanceError(f"{after} is not {article} proposal")
    if state in (ProposalState.REJECTED, ProposalState.EXPIRED, ProposalState.FAILED):
        raise ProposalStateError(f"{noun} {after} is {state.value}: the protocol stays paused")
    target = component or prior.component
    if target not in policy.proxies:
        raise GovernanceError(
            f"no proxy {target!r} in the policy of {policy.protocol} (have: {', '.join(policy.proxies)})"
        )
    return await _store_new(
        client,
        store,
        policy,
        action=GovAction.UNPAUSE,
        severity=severity,
        component=target,
        call=encode_call(PROXY_ABI, "unpause"),
        evidence=prior.evidence_hash,
        predecessor=prior.timelock_op.operation_id,
        description=f"unpause {target} ({policy.proxies[target]}) after {after}",
        now=now,
        incident_id=prior.incident_id,
        depends_on=after,
    )


def summary(p: Proposal, state: ProposalState) -> dict[str, Any]:
    return {"state": state.value, **p.to_json()}
