"""Remedy by state for the demo protocol, composed: the scenario's request (bulwark.scenarios),
the search and verification on forks (bulwark.remedy), then governance and execution.

    result = await parameter_remedy(protocol, scenario, rpc_url, attack_txs, compiler)
    applied = await apply_parameter_remedy(client, store, policy, result, signer_keys=..., ...)
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from bulwark.chain import ChainClient
from bulwark.config.remedy import RemedyConfig
from bulwark.domain import Severity
from bulwark.domain.govern import ExecutionResult, Policy, Proposal, SmokeCall
from bulwark.domain.remedy import RemedyResult
from bulwark.execute import execute_proposal
from bulwark.govern import approve_missing
from bulwark.govern.parameters import propose_parameter_remedy, propose_resume
from bulwark.remedy.engine import find_parameter_remedy
from bulwark.scenarios.benign import BenignTraffic
from bulwark.scenarios.corpus import Scenario
from bulwark.scenarios.protocol import DemoProtocol
from bulwark.scenarios.remedy import demo_remedy_request
from bulwark.scenarios.runner import RunOptions, prepare_scenario
from bulwark.store import Store
from bulwark.toolchain.anvil import Anvil, AnvilOptions
from bulwark.toolchain.solc import Compiler

__all__ = [
    "Applied",
    "apply_parameter_remedy",
    "parameter_remedy",
    "resume_component",
    "run_scenario_remedy",
]


async def parameter_remedy(
    protocol: DemoProtocol,
    scenario: Scenario,
    rpc_url: str,
    attack_txs: Sequence[str],
    compiler: Compiler,
    *,
    config: RemedyConfig | None = None,
    regress: int = 12,
    forward_txs: int = 12,
) -> RemedyResult:
    """The demo protocol's parameter remedy for a scenario's attack (search, verify, impact)."""
    request = demo_remedy_request(
        protocol, scenario, rpc_url, attack_txs, compiler, regress=regress, forward_txs=forward_txs
    )
    if config is not None:
        request = dataclasses.replace(
            request,
            declared=config.declared(),
            alternatives={k: tuple(v) for k, v in config.alternatives.items()},
            max_blocked=config.max_blocked,
        )
    return await find_parameter_remedy(request, compiler=compiler)


@dataclass(frozen=True, slots=True)
class Applied:
    """What carrying a parameter remedy through governance did."""

    proposals: tuple[str, ...]
    resumed: tuple[str, ...]  # unpause proposals executed, one per paused component
    ok: bool
    detail: str = ""


async def resume_component(
    client: Any,
    store: Store,
    policy: Policy,
    *,
    component: str,
    after: str,
    signer_keys: Sequence[str],
    relayer: Any,
    smoke: Sequence[SmokeCall] = (),
    severity: Severity | None = None,
    existing: Proposal | None = None,
    time_travel: bool = False,
) -> tuple[Proposal, ExecutionResult]:
    """Unpause ``component`` after the parameter proposal ``after``: propose (unless ``existing``
    is given, after a restart), sign with the keys that have not signed, execute."""
    proposal = existing or await propose_resume(
        client, store, policy, after=after, component=component, severity=severity
    )
    await approve_missing(client, store, proposal.id, signer_keys)
    done = await execute_proposal(
        client, store, proposal.id, sender=relayer, smoke=smoke, time_travel=time_travel
    )
    return proposal, done


async def apply_parameter_remedy(
    client: Any,
    store: Store,
    policy: Policy,
    result: RemedyResult,
    *,
    signer_keys: Sequence[str],
    relayer: Any,
    paused: Sequence[str],
    severity: Severity | None = None,
    incident_id: str | None = None,
    smoke: Mapping[str, Sequence[SmokeCall]] | None = None,
    time_travel: bool = False,
) -> Applied:
    """Propose the remedy, sign it with ``signer_keys`` (the demo owners), execute it through the
    Safe and the timelock, then propose, sign and execute the unpause of each ``paused`` component.
    Against a real chain, signatures come from ``bulwark approve`` instead."""
    smoke = smoke or {}
    props = await propose_parameter_remedy(
        client, store, policy, result, severity=severity, incident_id=incident_id
    )
    for p in props:
        await approve_missing(client, store, p.id, signer_keys)
        done = await execute_proposal(
            client, store, p.id, sender=relayer, smoke=smoke.get(p.component, ()), time_travel=time_travel
        )
        if not done.ok:
            return Applied(tuple(x.id for x in props), (), False, f"{p.id}: post-checks failed")
    resumed: list[str] = []
    for component in paused:
        unpause, done = await resume_component(
            client,
            store,
            policy,
            component=component,
            after=props[-1].id,
            signer_keys=signer_keys,
            relayer=relayer,
            smoke=smoke.get(component, ()),
            severity=severity,
            time_travel=time_travel,
        )
        if not done.ok:
            return Applied(
                tuple(x.id for x in props), tuple(resumed), False, f"unpause of {component} failed"
            )
        resumed.append(unpause.id)
    return Applied(tuple(x.id for x in props), tuple(resumed), True)


async def run_scenario_remedy(
    scenario: Scenario, compiler: Compiler, *, benign_txs: int = 12, regress: int = 12, forward_txs: int = 12
) -> dict[str, Any]:
    """Play ``scenario`` on a fresh anvil (benign traffic, then the attack), then search, verify and
    measure its parameter remedy on forks of that chain. Nothing is proposed."""
    with Anvil(AnvilOptions(accounts=20)) as node:
        async with ChainClient(node.http_url) as client:
            ctx, attack, _ = await prepare_scenario(scenario, RunOptions(), client, node.accounts, compiler)
            await BenignTraffic(client, ctx.protocol, compiler, seed=0, exclude=scenario.benign_exclude).run(
                benign_txs
            )
            hashes = [str(h) for h in await attack(ctx)]
        result = await parameter_remedy(
            ctx.protocol, scenario, node.http_url, hashes, compiler, regress=regress, forward_txs=forward_txs
        )
    return {"scenario": scenario.name, "class": scenario.vuln_class.value, **result.to_json()}
