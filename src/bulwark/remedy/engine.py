"""The parameter-remedy engine: catalogue → search on forks → verification → impact.

    result = await find_parameter_remedy(RemedyRequest(...), compiler=compiler)

Containment transactions (the sentinel's pause, ``skip_senders``) are left out of the replayed
attack window, so the remedy, not the pause, must stop the attack. The first candidate that stops
it is verified in full (benign history on two forks, invariants, the impact report), hashed into
its own evidence. :func:`measure_code_impact` gives the same impact report for a code patch.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Mapping, Sequence
from typing import Any

from bulwark.chain.abi import decode_result, encode_call
from bulwark.chain.convert import to_bytes, to_int
from bulwark.chain.mempool import BatchRpc
from bulwark.domain import Address
from bulwark.domain.remedy import (
    ComponentSource,
    ImpactReport,
    ParameterRemedy,
    RemedyAttempt,
    RemedyKind,
    RemedyRequest,
    RemedyResult,
    Setter,
)
from bulwark.domain.verify import AttackReplay, Verdict
from bulwark.fork.replay import AttackPlan, plan_attack
from bulwark.fork.session import Fork, VerifyError
from bulwark.logs import get_logger
from bulwark.remedy.catalogue import apply_declared, catalogue
from bulwark.remedy.forks import apply_calls, compare_forks, screen
from bulwark.remedy.search import candidates, search
from bulwark.remedy.verify import remedy_verdict
from bulwark.toolchain.solc import Compiler

__all__ = [
    "build_catalogue",
    "choose_remedy",
    "find_parameter_remedy",
    "measure_code_impact",
    "verify_parameter_remedy",
]

log = get_logger(__name__)


def build_catalogue(request: RemedyRequest, compiler: Compiler) -> tuple[Setter, ...]:
    setters: list[Setter] = []
    for name, comp in request.components.items():
        result = compiler.compile_files([comp.source])
        setters += catalogue(result, comp.contract, name)
    return apply_declared(setters, request.declared)


def _getter_abi(var: str, out: str) -> list[dict[str, Any]]:
    return [
        {
            "type": "function",
            "name": var,
            "stateMutability": "view",
            "inputs": [],
            "outputs": [{"name": "", "type": out}],
        }
    ]


async def _current_values(
    live: BatchRpc, setters: Sequence[Setter], components: Mapping[str, ComponentSource], block: int
) -> dict[tuple[str, str], Any]:
    wanted = {
        (s.component, p.stored_in, p.type): None
        for s in setters
        for p in s.params
        if p.stored_in and s.component in components
    }
    out: dict[tuple[str, str], Any] = {}
    for comp, var, typ in wanted:
        abi = _getter_abi(var, typ)
        call = {"to": components[comp].proxy, "data": "0x" + encode_call(abi, var).hex()}
        try:
            raw = await live.request("eth_call", [call, hex(block)])
            out[(comp, var)] = decode_result(abi, var, to_bytes(raw))
        except Exception as exc:
            log.warning("getter unreadable", component=comp, var=var, why=str(exc))
    return out


async def _plan(request: RemedyRequest, live: BatchRpc) -> tuple[int, RemedyRequest, AttackPlan]:
    """The chain id, the request with every component's proxy protected, and the attack's plan
    without the containment senders' transactions."""
    chain_id = to_int(await live.request("eth_chainId", []))
    protected = tuple(dict.fromkeys([*(c.proxy for c in request.components.values()), *request.protected]))
    plan = await plan_attack(live, request.attack_txs, protected=protected, assets=request.assets)
    skip = {s.lower() for s in request.skip_senders}
    plan = dataclasses.replace(plan, window=tuple(t for t in plan.window if t.sender.lower() not in skip))
    return chain_id, dataclasses.replace(request, protected=protected), plan


async def _verify(
    request: RemedyRequest,
    remedy: ParameterRemedy,
    plan: AttackPlan,
    chain_id: int,
    replay: AttackReplay | None,
) -> tuple[Verdict, ImpactReport]:
    async def install(fork: Fork) -> bool:
        return await apply_calls(fork, request.admin, remedy)

    regression, impact, applied, invariants = await compare_forks(
        request, install, plan.fork_block, remedy.label, RemedyKind.PARAMETERS
    )
    verdict = remedy_verdict(
        remedy,
        chain_id=chain_id,
        admin=request.admin,
        attack=replay,
        attack_txs=request.attack_txs,
        regression=regression,
        invariants=invariants,
        impact=impact,
        applied=applied and replay is not None,
        max_blocked=request.max_blocked,
    )
    return verdict, impact


async def find_parameter_remedy(request: RemedyRequest, *, compiler: Compiler) -> RemedyResult:
    """Search, verify and measure the smallest parameter remedy for the attack (see the module doc)."""
    setters = await asyncio.to_thread(build_catalogue, request, compiler)
    live = BatchRpc(request.rpc_url, max_batch=64, timeout_s=120.0)
    try:
        chain_id, request, plan = await _plan(request, live)
        current = await _current_values(live, setters, request.components, plan.fork_block)
    finally:
        await live.close()
    targets = {name: c.proxy for name, c in request.components.items()}
    cands = candidates(setters, request.finding_class, current, targets, alternatives=request.alternatives)
    if not cands:
        return RemedyResult(
            None, (), False, (f"no setter in the catalogue can neutralise {request.finding_class}",), None
        )
    replays: dict[str, AttackReplay | None] = {}

    async def check(remedy: ParameterRemedy) -> RemedyAttempt:
        attempt, replay = await screen(request, plan, remedy)
        replays[remedy.label] = replay
        return attempt

    chosen, attempts = await search(cands, check, max_tries=request.max_tries)
    if chosen is None:
        reasons = tuple(f"{a.remedy.label}: {'; '.join(a.reasons)}" for a in attempts)
        return RemedyResult(None, attempts, False, reasons, None)
    verdict, impact = await _verify(request, chosen, plan, chain_id, replays.get(chosen.label))
    log.info(
        "parameter remedy verified", remedy=chosen.label, passed=verdict.passed, hash=verdict.evidence_hash
    )
    return RemedyResult(
        chosen,
        attempts,
        verdict.passed,
        tuple(str(r) for r in verdict.reasons),
        verdict.evidence_hash,
        verdict.evidence.document,
        impact,
    )


async def verify_parameter_remedy(
    request: RemedyRequest, remedy: ParameterRemedy
) -> tuple[Verdict, ImpactReport]:
    """Verify one given parameter remedy (a human's, or a search's) exactly as the search does."""
    live = BatchRpc(request.rpc_url, max_batch=64, timeout_s=120.0)
    try:
        chain_id, request, plan = await _plan(request, live)
    finally:
        await live.close()
    _, replay = await screen(request, plan, remedy)
    return await _verify(request, remedy, plan, chain_id, replay)


async def measure_code_impact(
    request: RemedyRequest,
    *,
    proxy: Address,
    init_code: bytes,
    upgrader: Address,
    label: str,
    before_block: int | None = None,
) -> ImpactReport:
    """The impact report of a code patch: the candidate installed through ``upgradeToAndCall``.

    The history replayed ends at ``before_block`` (default: the block before the first attack
    transaction), as for a parameter remedy."""
    if before_block is None:
        live = BatchRpc(request.rpc_url, max_batch=64, timeout_s=120.0)
        try:
            plan = await plan_attack(
                live, request.attack_txs, protected=request.protected, assets=request.assets
            )
        finally:
            await live.close()
        before_block = plan.fork_block

    async def install(fork: Fork) -> bool:
        impl = await fork.deploy(init_code)
        return await fork.upgrade(proxy, impl, upgrader)

    _, impact, applied, _ = await compare_forks(request, install, before_block, label, RemedyKind.CODE)
    if not applied:
        raise VerifyError(f"the candidate could not be installed on {proxy} for the impact report")
    return impact


def choose_remedy(prefer: str, parameters: RemedyResult | None, code_verified: bool) -> RemedyKind | None:
    """Which verified remedy the policy takes: ``parameters``/``code`` prefer that kind and fall
    back to the other; ``smallest`` takes a verified parameter change over new code (no new
    bytecode goes live, and it is undone by the same kind of call)."""
    params_ok = parameters is not None and parameters.passed
    if prefer == "code":
        return RemedyKind.CODE if code_verified else (RemedyKind.PARAMETERS if params_ok else None)
    return RemedyKind.PARAMETERS if params_ok else (RemedyKind.CODE if code_verified else None)
