"""Proposals for a remedy by state: administrative setter calls made by the timelock.

A parameter remedy is one or more calls (``lending.setRiskParams(...)``, ``lending.setOracle(...)``)
that the TimelockController makes on a component's proxy, carried by the Safe exactly like an
upgrade: the evidence hash of the remedy's verification is the timelock salt, the policy's rule
for ``parameters`` gives the threshold and the delay. Several calls become a chain of proposals,
each with the previous one's timelock operation as predecessor, so they run in order or not at
all. The unpause that resumes the protocol follows the last one (:func:`propose_resume`).
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Sequence

from bulwark.chain import ChainClient
from bulwark.chain.timelock import ZERO32
from bulwark.domain import Hash32, Severity
from bulwark.domain.govern import GovAction, Policy, Proposal
from bulwark.domain.remedy import RemedyResult
from bulwark.errors import GovernanceError
from bulwark.govern.proposal import VerdictLike, _store_new, propose_unpause_after, recorded_verdict
from bulwark.store import Store

__all__ = [
    "ParameterCall",
    "StoredVerdict",
    "propose_parameter_remedy",
    "propose_parameters",
    "propose_resume",
    "with_parameter_rules",
]

ParameterCall = tuple[str, bytes, str]  # (component, calldata, human label such as "setRiskParams(0, ...)")


async def propose_parameters(
    client: ChainClient,
    store: Store,
    policy: Policy,
    verdict: VerdictLike,
    *,
    calls: Sequence[ParameterCall],
    severity: Severity | None = None,
    incident_id: str | None = None,
    note: str = "",
    now: float | None = None,
) -> tuple[Proposal, ...]:
    """Store the proposals that make ``calls`` through the timelock (one per call, chained).

    ``note`` (the remedy's impact report, for instance) is appended to every description so the
    signers see it next to the calls they sign.
    """
    if not verdict.passed:
        raise GovernanceError("the verdict did not pass: nothing to propose")
    if not calls:
        raise GovernanceError("a parameter remedy needs at least one call")
    recorded = recorded_verdict(store, verdict.evidence_hash)
    evidence = Hash32(recorded.evidence_hash)
    if recorded.kind != "parameters":
        raise GovernanceError(
            f"the verdict {evidence} verified no parameter remedy: it cannot back these calls"
        )
    verified = set(recorded.calls)
    for component, data, label in calls:
        if component not in policy.proxies:
            raise GovernanceError(
                f"no proxy {component!r} in the policy of {policy.protocol} "
                f"(have: {', '.join(policy.proxies)})"
            )
        if (policy.proxies[component].lower(), "0x" + data.hex()) not in verified:
            raise GovernanceError(
                f"{component}.{label} is not a call the verdict {evidence} verified: "
                "propose the verified remedy"
            )
    policy = with_parameter_rules(policy)
    out: list[Proposal] = []
    predecessor: Hash32 = ZERO32
    # What every proposal of the chain shares; each adds its call and its place in the chain.
    store_next = functools.partial(
        _store_new, client, store, policy, action=GovAction.PARAMETERS, severity=severity, evidence=evidence
    )
    for i, (component, data, label) in enumerate(calls, start=1):
        proposal = await store_next(
            component=component,
            call=data,
            predecessor=predecessor,
            description=f"parameters {i}/{len(calls)}: {component}.{label} on {policy.proxies[component]}",
            note=note,
            now=now,
            incident_id=incident_id,
            depends_on=out[-1].id if out else None,
        )
        out.append(proposal)
        predecessor = proposal.timelock_op.operation_id
    return tuple(out)


@dataclasses.dataclass(frozen=True, slots=True)
class StoredVerdict:
    """A verdict already stored, known by its evidence hash (governance reads the rest from the store)."""

    passed: bool
    evidence_hash: str


async def propose_parameter_remedy(
    client: ChainClient,
    store: Store,
    policy: Policy,
    result: RemedyResult,
    *,
    severity: Severity | None = None,
    incident_id: str | None = None,
) -> tuple[Proposal, ...]:
    """A verified remedy's calls as proposals through the Safe and the timelock, its evidence hash
    as salt and its impact report in the description, the evidence stored next to them."""
    if result.chosen is None or not result.passed or result.evidence_hash is None:
        raise GovernanceError("no verified parameter remedy to propose: " + "; ".join(result.reasons))
    store.put_artifact(
        f"evidence:{result.evidence_hash}",
        "evidence",
        dict(result.evidence),
        incident_id=incident_id,
        state="verified",
    )
    calls = [(c.component, bytes.fromhex(c.data[2:]), c.label) for c in result.chosen.calls]
    note = result.impact.summary_text() if result.impact is not None else ""
    return await propose_parameters(
        client,
        store,
        policy,
        StoredVerdict(True, result.evidence_hash),
        calls=calls,
        severity=severity,
        incident_id=incident_id,
        note=note,
    )


def with_parameter_rules(policy: Policy) -> Policy:
    """``policy`` with rules for ``parameters``: its own when it declares any, else a copy of its
    upgrade rules (a change of state is held to the same signers and delay as a change of code)."""
    if any(action is GovAction.PARAMETERS for action, _ in policy.rules):
        return policy
    rules = policy.rules
    copied = {(GovAction.PARAMETERS, sev): r for (a, sev), r in rules.items() if a is GovAction.UPGRADE}
    return dataclasses.replace(policy, rules={**policy.rules, **copied})


async def propose_resume(
    client: ChainClient,
    store: Store,
    policy: Policy,
    *,
    after: str,
    component: str,
    severity: Severity | None = None,
    now: float | None = None,
) -> Proposal:
    """The unpause of ``component`` once the parameter proposal ``after`` (the last of its chain)
    has executed: its own proposal and threshold, the same evidence hash as salt, and that
    proposal's timelock operation as predecessor."""
    return await propose_unpause_after(
        client,
        store,
        policy,
        after=after,
        of=GovAction.PARAMETERS,
        component=component,
        severity=severity,
        now=now,
    )
