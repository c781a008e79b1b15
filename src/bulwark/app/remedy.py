"""Remediation by state, composed: catalogue → search on forks → verification → impact → proposal.

The remedy stage (:mod:`bulwark.remedy`) knows setters, candidates, verdicts and impact; the
verification stage (:mod:`bulwark.verify`) knows forks and replays. Stages do not import each
other, so this module wires them:

    result = await find_parameter_remedy(RemedyRequest(...), compiler=compiler)
    proposals = await propose_parameter_remedy(client, store, policy, result, severity=...)

Each candidate is screened by replaying the attack on a fork of the block before it, with the
remedy's calls made by the admin (the timelock, impersonated: the same calls its execution will
make) — containment transactions (the sentinel's pause) are left out of the replayed window so
the remedy, not the pause, must stop the attack. The first candidate that stops it is verified in
full: the last N benign transactions replayed on two forks (original, remedied), invariants,
and the impact report (history + forward simulation), hashed into its own evidence.

:func:`measure_code_impact` gives the same impact report for a code patch (an upgrade).
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bulwark.chain import Signer
from bulwark.chain.abi import decode_result, encode_call
from bulwark.chain.convert import to_bytes, to_int
from bulwark.chain.mempool import BatchRpc
from bulwark.chain.timelock import is_paused
from bulwark.config.remedy import RemedyConfig
from bulwark.domain import Address, IncidentState, Severity
from bulwark.domain.govern import GovAction, Policy, Proposal, SmokeCall
from bulwark.domain.remedy import (
    ImpactReport,
    MetricKind,
    ParameterRemedy,
    RemedyAttempt,
    RemedyKind,
    RemedyResult,
    Setter,
)
from bulwark.domain.verify import AttackReplay, Evidence, Invariant, RegressionReport, Verdict
from bulwark.flow import Step, StepContext, StepOutcome
from bulwark.fork.invariants import check_invariants
from bulwark.fork.regress import compare, replay_pair, select_benign
from bulwark.fork.replay import AttackPlan, plan_attack, replay_attack
from bulwark.fork.session import Fork, VerifyError
from bulwark.govern.parameters import propose_parameters
from bulwark.govern.proposal import load as load_proposal
from bulwark.logs import get_logger
from bulwark.remedy.catalogue import apply_declared, catalogue
from bulwark.remedy.impact import Observed, TxRun, impact_report
from bulwark.remedy.search import candidates, search
from bulwark.remedy.verify import attack_reasons, remedy_verdict
from bulwark.scenarios.corpus import Scenario
from bulwark.scenarios.protocol import DemoProtocol
from bulwark.store import Store
from bulwark.toolchain.paths import project_root
from bulwark.toolchain.solc import Compiler

__all__ = [
    "Applied",
    "CodeSteps",
    "ComponentSource",
    "Forward",
    "ParameterSteps",
    "Probe",
    "RemedyRequest",
    "apply_parameter_remedy",
    "choose_remedy",
    "find_parameter_remedy",
    "measure_code_impact",
    "parameter_remedy",
    "propose_parameter_remedy",
    "run_scenario_remedy",
    "verify_parameter_remedy",
]

log = get_logger(__name__)

# Runs a short benign simulation on the fork at the given URL; returns what each transaction did.
Forward = Callable[[str], Awaitable[list[TxRun]]]


@dataclass(frozen=True, slots=True)
class ComponentSource:
    """A protected component: its proxy and the source of its live implementation."""

    proxy: Address
    source: Path
    contract: str


@dataclass(frozen=True, slots=True)
class Probe:
    """A metric read with ``eth_call``: ``fn(args)`` on ``to`` (output ``index`` of the result);
    with ``per`` set, the value is ``value * 10_000 / per-value`` (basis points, e.g. utilisation)."""

    kind: MetricKind
    label: str
    to: Address
    fn: str
    inputs: tuple[str, ...] = ()
    args: tuple[Any, ...] = ()
    outputs: tuple[str, ...] = ("uint256",)
    index: int = 0
    per: Probe | None = None


@dataclass(frozen=True, slots=True)
class RemedyRequest:
    rpc_url: str = field(repr=False)
    admin: Address  # who makes the setter calls: the timelock
    finding_class: str
    attack_txs: tuple[str, ...]
    components: Mapping[str, ComponentSource]
    protected: tuple[Address, ...] = ()
    skip_senders: tuple[Address, ...] = ()  # containment (sentinel) txs left out of the attack window
    regress: int = 12
    declared: Mapping[str, Sequence[str]] = field(default_factory=dict)
    alternatives: Mapping[str, Sequence[str]] = field(default_factory=dict)
    invariants: tuple[Invariant, ...] = ()
    probes: tuple[Probe, ...] = ()
    forward: Forward | None = None
    max_tries: int = 4
    max_blocked: int | None = None
    names: Mapping[str, str] = field(default_factory=dict)  # "0x<to>:0x<selector>" -> "lending.borrow"
    # Values the attack's asset moves at this oracle's prices (collateral posted is not a loss).
    price_oracle: Address | None = None
    # Tokens to count besides those the attack moved (a contained attack reverted: it moved none).
    assets: tuple[Address, ...] = ()


# ----------------------------------------------------------------------------- catalogue


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


# ----------------------------------------------------------------------------- fork work


async def _apply(fork: Fork, admin: Address, remedy: ParameterRemedy) -> bool:
    await fork.client.set_balance(admin, 10**22)
    for c in remedy.calls:
        rc = await fork.execute(admin, Address(c.target), bytes.fromhex(c.data[2:]), gas=2_000_000)
        if to_int(rc.get("status", 0)) != 1:
            return False
    return True


async def _screen(
    request: RemedyRequest, plan: AttackPlan, remedy: ParameterRemedy
) -> tuple[RemedyAttempt, AttackReplay | None]:
    async with Fork(request.rpc_url, plan.fork_block) as fork:
        if not await _apply(fork, request.admin, remedy):
            return RemedyAttempt(
                remedy, False, (f"the admin cannot make the calls: {remedy.label} reverts",)
            ), None
        report, _ = await replay_attack(
            fork, plan, f"parameters by {request.admin} (impersonated)", request.price_oracle
        )
    return RemedyAttempt(remedy, report.blocked, tuple(str(r) for r in attack_reasons(report))), report


async def _read(fork: Fork, probe: Probe) -> int | None:
    abi = [
        {
            "type": "function",
            "name": probe.fn,
            "stateMutability": "view",
            "inputs": [{"name": f"a{i}", "type": t} for i, t in enumerate(probe.inputs)],
            "outputs": [{"name": "", "type": t} for t in probe.outputs],
        }
    ]
    try:
        raw = await fork.rpc(
            "eth_call",
            [{"to": probe.to, "data": "0x" + encode_call(abi, probe.fn, *probe.args).hex()}, "latest"],
        )
        value = decode_result(abi, probe.fn, to_bytes(raw), len(probe.args))
    except Exception:
        return None
    v = int(value[probe.index] if isinstance(value, tuple) else value)
    if probe.per is not None:
        den = await _read(fork, probe.per)
        return None if not den else v * 10_000 // den
    return v


async def _metrics(
    fork: Fork, probes: Sequence[Probe], phase: str
) -> dict[tuple[MetricKind, str, str], int | None]:
    values = await asyncio.gather(*(_read(fork, p) for p in probes))
    return {(p.kind, p.label, phase): v for p, v in zip(probes, values, strict=True)}


def _fn_name(names: Mapping[str, str], to: str | None, data: bytes) -> str:
    sel = "0x" + data[:4].hex() if len(data) >= 4 else "0x"
    return names.get(f"{(to or '').lower()}:{sel}", sel)


async def _compare_forks(
    request: RemedyRequest,
    install: Callable[[Fork], Awaitable[bool]],
    before_block: int,
    label: str,
    kind: RemedyKind,
) -> tuple[RegressionReport, ImpactReport, bool, tuple[Any, ...]]:
    """Benign history on two forks (original and remedied), metrics, forward simulation."""
    live = BatchRpc(request.rpc_url, max_batch=64, timeout_s=120.0)
    try:
        benign = await select_benign(
            live,
            request.protected,
            request.regress,
            before_block=before_block,
            exclude=frozenset(h.lower() for h in request.attack_txs),
        )
    finally:
        await live.close()
    fork_block = benign.fork_block if benign.selected else before_block
    async with Fork(request.rpc_url, fork_block) as original, Fork(request.rpc_url, fork_block) as remedied:
        applied = await install(remedied)
        await original.mine()  # the same number of blocks on both forks
        if benign.selected:
            out_o, out_r, _, _ = await replay_pair(original, remedied, benign, request.protected)
            report = compare(benign.fork_block, out_o, out_r)
        else:
            out_o, out_r, report = [], [], RegressionReport(fork_block, 0, ())
        sel = {str(t.hash): t for t in benign.selected}

        def runs(outs: Sequence[Any]) -> tuple[TxRun, ...]:
            return tuple(
                TxRun(o.tx_hash, sel[o.tx_hash].sender, _fn_name(request.names, sel[o.tx_hash].to,
                                                                 sel[o.tx_hash].data), o.status)
                for o in outs
            )  # fmt: skip

        hist_o, hist_r = runs(out_o), runs(out_r)
        m_o, m_r = await asyncio.gather(
            _metrics(original, request.probes, "history"), _metrics(remedied, request.probes, "history")
        )
        invariants: tuple[Any, ...] = ()
        if request.invariants:
            invariants = tuple(await asyncio.to_thread(check_invariants, remedied.url, request.invariants))
        fwd_o: list[TxRun] = []
        fwd_r: list[TxRun] = []
        notes: list[str] = []
        if request.forward is not None:
            try:
                fwd_o = await request.forward(original.url)
                fwd_r = await request.forward(remedied.url)
            except Exception as exc:
                notes.append(f"forward simulation failed: {exc}")
            f_o, f_r = await asyncio.gather(
                _metrics(original, request.probes, "forward"), _metrics(remedied, request.probes, "forward")
            )
            m_o.update(f_o)
            m_r.update(f_r)
    impact = impact_report(
        kind, label, Observed(hist_o, tuple(fwd_o), m_o), Observed(hist_r, tuple(fwd_r), m_r), notes
    )
    return report, impact, applied, invariants


# ----------------------------------------------------------------------------- entry points


async def find_parameter_remedy(request: RemedyRequest, *, compiler: Compiler) -> RemedyResult:
    """Search, verify and measure the smallest parameter remedy for the attack (see the module doc)."""
    setters = await asyncio.to_thread(build_catalogue, request, compiler)
    live = BatchRpc(request.rpc_url, max_batch=64, timeout_s=120.0)
    try:
        chain_id = to_int(await live.request("eth_chainId", []))
        protected = tuple(
            dict.fromkeys([*(c.proxy for c in request.components.values()), *request.protected])
        )
        plan = await plan_attack(live, request.attack_txs, protected=protected, assets=request.assets)
        skip = {s.lower() for s in request.skip_senders}
        plan = dataclasses.replace(plan, window=tuple(t for t in plan.window if t.sender.lower() not in skip))
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
        attempt, replay = await _screen(request, plan, remedy)
        replays[remedy.label] = replay
        return attempt

    chosen, attempts = await search(cands, check, max_tries=request.max_tries)
    if chosen is None:
        reasons = tuple(f"{a.remedy.label}: {'; '.join(a.reasons)}" for a in attempts)
        return RemedyResult(None, attempts, False, reasons, None)
    request = dataclasses.replace(request, protected=protected)

    async def install(fork: Fork) -> bool:
        return await _apply(fork, request.admin, chosen)

    regression, impact, applied, invariants = await _compare_forks(
        request, install, plan.fork_block, chosen.label, RemedyKind.PARAMETERS
    )
    verdict = remedy_verdict(
        chosen,
        chain_id=chain_id,
        admin=request.admin,
        attack=replays.get(chosen.label),
        attack_txs=request.attack_txs,
        regression=regression,
        invariants=invariants,
        impact=impact,
        applied=applied,
        max_blocked=request.max_blocked,
    )
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
        chain_id = to_int(await live.request("eth_chainId", []))
        protected = tuple(
            dict.fromkeys([*(c.proxy for c in request.components.values()), *request.protected])
        )
        plan = await plan_attack(live, request.attack_txs, protected=protected, assets=request.assets)
        skip = {s.lower() for s in request.skip_senders}
        plan = dataclasses.replace(plan, window=tuple(t for t in plan.window if t.sender.lower() not in skip))
    finally:
        await live.close()
    _, replay = await _screen(request, plan, remedy)
    request = dataclasses.replace(request, protected=protected)

    async def install(fork: Fork) -> bool:
        return await _apply(fork, request.admin, remedy)

    regression, impact, applied, invariants = await _compare_forks(
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

    _, impact, applied, _ = await _compare_forks(request, install, before_block, label, RemedyKind.CODE)
    if not applied:
        raise VerifyError(f"the candidate could not be installed on {proxy} for the impact report")
    return impact


@dataclass(frozen=True, slots=True)
class _EvidenceVerdict:
    passed: bool
    evidence_hash: str
    evidence: Evidence


@dataclass(frozen=True, slots=True)
class _Verdict:
    passed: bool
    evidence_hash: str


async def propose_parameter_remedy(
    client: Any,
    store: Store,
    policy: Policy,
    result: RemedyResult,
    *,
    severity: Severity | None = None,
    incident_id: str | None = None,
) -> tuple[Proposal, ...]:
    """The remedy's calls as proposals through the Safe and the timelock, its evidence hash as
    salt and its impact report in the description, the evidence stored next to them."""
    if result.chosen is None or not result.passed or result.evidence_hash is None:
        raise VerifyError("no verified parameter remedy to propose: " + "; ".join(result.reasons))
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
        _Verdict(True, result.evidence_hash),
        calls=calls,
        severity=severity,
        incident_id=incident_id,
        note=note,
    )


# ----------------------------------------------------------------------------- the demo protocol

_CONTRACTS = {
    "oracle": "PriceOracle",
    "pool": "ConstantProductPool",
    "lending": "LendingMarket",
    "vault": "DemoVault",
    "flash": "FlashLender",
}


def demo_components(protocol: DemoProtocol, scenario: Scenario | None = None) -> dict[str, ComponentSource]:
    """Every component of the demo protocol with its live source (the scenario's vulnerable one
    for the scenario's component)."""
    root = project_root()
    out = {}
    for name, comp in protocol.components.items():
        if scenario is not None and name == scenario.component and not scenario.extra_component:
            out[name] = ComponentSource(
                Address(comp.proxy), scenario.vulnerable.source, scenario.vulnerable.contract
            )
        elif name in _CONTRACTS:
            out[name] = ComponentSource(
                Address(comp.proxy),
                root / "contracts" / "protocol" / f"{_CONTRACTS[name]}.sol",
                _CONTRACTS[name],
            )
    return out


def demo_probes(protocol: DemoProtocol) -> tuple[Probe, ...]:
    """Prices, liquidity, utilisation, health factors and the demo users' balances."""
    c = {name: Address(comp.proxy) for name, comp in protocol.components.items()}
    weth, usd = protocol.address("weth"), protocol.address("usd")
    supplied = Probe(MetricKind.UTILISATION, "lending.totalSupplied", c["lending"], "totalSupplied")
    probes = [
        Probe(MetricKind.PRICE, "oracle.price(weth)", c["oracle"], "price", ("address",), (weth,)),
        Probe(MetricKind.PRICE, "pool.spotPrice(weth)", c["pool"], "spotPrice", ("address",), (weth,)),
        Probe(MetricKind.LIQUIDITY, "lending.availableLiquidity", c["lending"], "availableLiquidity"),
        Probe(
            MetricKind.LIQUIDITY,
            "pool.reserve(weth)",
            c["pool"],
            "getReserves",
            (),
            (),
            ("uint256", "uint256"),
            0,
        ),
        Probe(
            MetricKind.LIQUIDITY,
            "pool.reserve(usd)",
            c["pool"],
            "getReserves",
            (),
            (),
            ("uint256", "uint256"),
            1,
        ),
        Probe(
            MetricKind.LIQUIDITY, "flash.maxFlashLoan(usd)", c["flash"], "maxFlashLoan", ("address",), (usd,)
        ),
        Probe(MetricKind.LIQUIDITY, "vault.totalAssets", c["vault"], "totalAssets"),
        Probe(
            MetricKind.UTILISATION, "lending.utilisation(bps)", c["lending"], "totalBorrowed", per=supplied
        ),
    ]
    for i, user in enumerate(protocol.users):
        who = Address(user.address)
        probes += [
            Probe(
                MetricKind.HEALTH,
                f"lending.healthFactor(user{i})",
                c["lending"],
                "healthFactor",
                ("address",),
                (who,),
            ),
            Probe(MetricKind.BALANCE, f"usd.balanceOf(user{i})", usd, "balanceOf", ("address",), (who,)),
            Probe(
                MetricKind.BALANCE, f"lending.debtOf(user{i})", c["lending"], "debtOf", ("address",), (who,)
            ),
        ]
    return tuple(probes)


def demo_names(protocol: DemoProtocol) -> dict[str, str]:
    from bulwark.chain.abi import selector

    out: dict[str, str] = {}
    for name, comp in protocol.components.items():
        for entry in comp.abi:
            if entry.get("type") == "function":
                out[f"{comp.proxy.lower()}:0x{selector(entry).hex()}"] = f"{name}.{entry['name']}"
    return out


def demo_forward(
    protocol: DemoProtocol, compiler: Compiler, *, txs: int, exclude: Iterable[str] = ()
) -> Forward:
    """Benign traffic simulated on a fork (the same seed on both forks), as per-action runs."""
    from bulwark.chain import ChainClient
    from bulwark.scenarios.benign import BenignTraffic

    async def forward(url: str) -> list[TxRun]:
        async with ChainClient(url, timeout_s=60.0) as client:
            await client.set_automine(True)
            traffic = BenignTraffic(client, protocol, compiler, seed=4242, users=4, exclude=exclude)
            report = await traffic.run(txs)
            await client.set_automine(False)
        runs: list[TxRun] = []
        for action, n in sorted(report.by_action.items()):
            failed = report.reverted_by_action.get(action, 0)
            runs += [TxRun(f"forward:{action}#{k}", "benign users", action, k >= failed) for k in range(n)]
        return runs

    return forward


def demo_remedy_request(
    protocol: DemoProtocol,
    scenario: Scenario,
    rpc_url: str,
    attack_txs: Sequence[str],
    compiler: Compiler,
    *,
    regress: int = 12,
    forward_txs: int = 12,
    max_tries: int = 4,
) -> RemedyRequest:
    return RemedyRequest(
        rpc_url=rpc_url,
        admin=Address(protocol.timelock.address),
        finding_class=scenario.vuln_class.value,
        attack_txs=tuple(attack_txs),
        components=demo_components(protocol, scenario),
        protected=tuple(Address(c.proxy) for c in protocol.components.values()),
        skip_senders=(Address(protocol.sentinel.address),),
        regress=regress,
        probes=demo_probes(protocol),
        forward=demo_forward(protocol, compiler, txs=forward_txs, exclude=scenario.benign_exclude)
        if forward_txs
        else None,
        max_tries=max_tries,
        names=demo_names(protocol),
        price_oracle=Address(protocol.component("oracle").proxy),
        assets=tuple(Address(t.address) for t in protocol.tokens.values()),
    )


# ----------------------------------------------------------------------------- for --protect full


def choose_remedy(prefer: str, parameters: RemedyResult | None, code_verified: bool) -> RemedyKind | None:
    """Which verified remedy the policy takes: ``parameters``/``code`` prefer that kind and fall
    back to the other; ``smallest`` takes a verified parameter change over new code (no new
    bytecode goes live, and it is undone by the same kind of call)."""
    params_ok = parameters is not None and parameters.passed
    if prefer == "code":
        return RemedyKind.CODE if code_verified else (RemedyKind.PARAMETERS if params_ok else None)
    return RemedyKind.PARAMETERS if params_ok else (RemedyKind.CODE if code_verified else None)


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
    from bulwark.execute import execute_proposal
    from bulwark.govern import approve
    from bulwark.govern.parameters import propose_resume

    smoke = smoke or {}
    props = await propose_parameter_remedy(
        client, store, policy, result, severity=severity, incident_id=incident_id
    )
    for p in props:
        for key in signer_keys:
            await approve(client, store, p.id, key)
        done = await execute_proposal(
            client, store, p.id, sender=relayer, smoke=smoke.get(p.component, ()), time_travel=time_travel
        )
        if not done.ok:
            return Applied(tuple(x.id for x in props), (), False, f"{p.id}: post-checks failed")
    resumed: list[str] = []
    for component in paused:
        unpause = await propose_resume(
            client, store, policy, after=props[-1].id, component=component, severity=severity
        )
        for key in signer_keys:
            await approve(client, store, unpause.id, key)
        checks = smoke.get(component, ())
        done = await execute_proposal(
            client, store, unpause.id, sender=relayer, smoke=checks, time_travel=time_travel
        )
        if not done.ok:
            return Applied(
                tuple(x.id for x in props), tuple(resumed), False, f"unpause of {component} failed"
            )
        resumed.append(unpause.id)
    return Applied(tuple(x.id for x in props), tuple(resumed), True)


# ----------------------------------------------------------------------------- incident flow steps


StepFn = Callable[[StepContext], Awaitable[StepOutcome]]


@dataclass(frozen=True, slots=True)
class CodeSteps:
    """The code-patch path's steps, the fallback when no parameter remedy is taken."""

    patch: StepFn
    verify: StepFn
    approve: StepFn
    upgrade: StepFn
    resume: StepFn
    close: StepFn


class ParameterSteps:
    """``--protect full`` steps that remedy by state when the policy prefers it.

    Same step names and incident states as the code path (patch → PATCHED, verify → VERIFIED, ...),
    so the flow, its records and its report keep their shape. ``patch`` searches and verifies the
    parameter remedy; when none passes (or the policy prefers code) every step hands over to
    ``code``. Each step is idempotent across a restart (proposals are looked up before one is made).
    """

    def __init__(
        self,
        *,
        protocol: DemoProtocol,
        scenario: Scenario,
        rpc_url: str,
        attack_txs: Sequence[str],
        client: Any,
        compiler: Compiler,
        policy: Policy,
        relayer: Any,
        signer_keys: Sequence[str],
        code: CodeSteps,
        prefer: str = "smallest",
        regress: int = 12,
        forward_txs: int = 12,
        config: RemedyConfig | None = None,
        smoke: Callable[[str], Sequence[SmokeCall]] = lambda _c: (),
        severity: Severity = Severity.CRITICAL,
    ) -> None:
        self.protocol = protocol
        self.scenario = scenario
        self.rpc_url = rpc_url
        self.attack_txs = tuple(attack_txs)
        self.client = client
        self.compiler = compiler
        self.policy = policy
        self.relayer = relayer
        self.signer_keys = tuple(signer_keys)
        self.code = code
        self.prefer = prefer
        self.regress = regress
        self.forward_txs = forward_txs
        self.config = config
        self.smoke = smoke
        self.severity = severity

    def steps(self) -> list[Step]:
        s = IncidentState
        return [
            Step("patch", s.PATCHED, self.patch),
            Step("verify", s.VERIFIED, self.verify),
            Step("approve", s.APPROVED, self.approve),
            Step("upgrade", s.UPGRADED, self.upgrade),
            Step("resume", s.RESUMED, self.resume),
            Step("close", s.CLOSED, self.close),
        ]

    async def close(self, ctx: StepContext) -> StepOutcome:
        """The code path's check of benign traffic after resumption; under a parameter remedy,
        reverts of the functions its impact report said it blocks (the cost the signers saw)
        are expected, any other revert still fails the incident."""
        out = await self.code.close(ctx)
        if out.ok or not self._parameters(ctx):
            return out
        impact = ctx.records["patch"].get("impact") or {}
        expected = {
            str(f).rsplit(".", 1)[-1].lower().replace("_", "") for f in impact.get("blocked_functions", [])
        }
        reverted = (out.record.get("benign_after") or {}).get("reverted_by_action") or {}
        unexpected = {a: n for a, n in reverted.items() if n and a.replace("_", "") not in expected}
        if reverted and not unexpected:
            record = {**out.record, "expected_reverts": reverted}
            return StepOutcome(True, record)
        return out

    @staticmethod
    def _parameters(ctx: StepContext) -> bool:
        return ctx.records.get("patch", {}).get("remedy") == RemedyKind.PARAMETERS.value

    async def patch(self, ctx: StepContext) -> StepOutcome:
        if self.prefer == "code":
            out = await self.code.patch(ctx)
            return dataclasses.replace(out, record={"remedy": RemedyKind.CODE.value, **out.record})
        result = await parameter_remedy(
            self.protocol,
            self.scenario,
            self.rpc_url,
            self.attack_txs,
            self.compiler,
            config=self.config,
            regress=self.regress,
            forward_txs=self.forward_txs,
        )
        tried = result.to_json()
        if choose_remedy(self.prefer, result, code_verified=False) is not RemedyKind.PARAMETERS:
            out = await self.code.patch(ctx)
            record = {"remedy": RemedyKind.CODE.value, "parameter_search": tried, **out.record}
            return dataclasses.replace(out, record=record)
        assert result.chosen is not None and result.evidence_hash is not None
        ctx.store.put_artifact(
            f"evidence:{result.evidence_hash}",
            "evidence",
            dict(result.evidence),
            incident_id=ctx.incident_id,
            state="verified",
        )
        return StepOutcome(
            True,
            {
                "remedy": RemedyKind.PARAMETERS.value,
                "calls": [
                    {"component": c.component, "call": c.label, "data": c.data} for c in result.chosen.calls
                ],
                "strategy": result.chosen.strategy,
                "evidence_hash": result.evidence_hash,
                "attempts": tried["attempts"],
                "impact": tried["impact"],
                "impact_text": result.impact.summary_text() if result.impact else "",
            },
        )

    async def verify(self, ctx: StepContext) -> StepOutcome:
        if not self._parameters(ctx):
            out = await self.code.verify(ctx)
            if out.ok and out.record.get("path"):
                impact = await self._code_impact(out.record)
                record = {**out.record, "impact": impact.to_json(), "impact_text": impact.summary_text()}
                return dataclasses.replace(out, record=record)
            return out
        rec = ctx.records["patch"]
        _, _, document = ctx.store.artifact(f"evidence:{rec['evidence_hash']}")
        attack = document.get("attack") or {}
        regression = document.get("regression") or {}
        return StepOutcome(
            True,
            {
                "pass": bool(document.get("pass")),
                "reasons": [r.get("message", "") for r in document.get("reasons", [])],
                "layout_ok": True,
                "attack_blocked": bool(attack) and bool(document.get("pass")),
                "regressions": len({d.get("tx_hash") for d in regression.get("differences", [])}),
                "gas_overhead_pct": 0.0,
                "evidence_hash": rec["evidence_hash"],
                "benign_failed": (rec.get("impact") or {}).get("benign_failed"),
            },
        )

    async def _code_impact(self, verified: Mapping[str, Any]) -> ImpactReport:
        from bulwark.verify.sources import compile_candidate

        compiled = await asyncio.to_thread(
            compile_candidate, self.compiler, Path(verified["path"]), verified["contract"]
        )
        request = demo_remedy_request(
            self.protocol,
            self.scenario,
            self.rpc_url,
            self.attack_txs,
            self.compiler,
            regress=self.regress,
            forward_txs=self.forward_txs,
        )
        return await measure_code_impact(
            request,
            proxy=Address(self.protocol.component(self.scenario.component).proxy),
            init_code=compiled.artifact.bytecode,
            upgrader=Address(self.protocol.timelock.address),
            label=f"upgrade {self.scenario.component} ({verified['contract']})",
        )

    async def _propose_code(self, ctx: StepContext) -> None:
        """The upgrade proposal with the code patch's impact in its description; the code path's
        approve step then finds it (it never proposes twice) and collects the signatures."""
        from bulwark.govern import proposals, propose_upgrade
        from bulwark.verify.sources import compile_candidate

        rec = ctx.records.get("verify", {})
        if not rec.get("impact_text"):
            return
        if any(p.action is GovAction.UPGRADE for p, _ in proposals(ctx.store, ctx.incident_id)):
            return
        compiled = await asyncio.to_thread(
            compile_candidate, self.compiler, Path(rec["path"]), rec["contract"]
        )
        _, _, document = ctx.store.artifact(f"evidence:{rec['evidence_hash']}")
        await propose_upgrade(
            self.client,
            ctx.store,
            self.policy,
            _EvidenceVerdict(True, rec["evidence_hash"], Evidence(document, rec["evidence_hash"])),
            component=self.scenario.component,
            implementation=compiled.artifact.bytecode,
            deployer=self.relayer,
            severity=self.severity,
            incident_id=ctx.incident_id,
            note=rec["impact_text"],
        )

    async def approve(self, ctx: StepContext) -> StepOutcome:
        if not self._parameters(ctx):
            await self._propose_code(ctx)
            return await self.code.approve(ctx)
        from bulwark.govern import approve, proposals

        rec = ctx.records["patch"]
        existing = [p for p, _ in proposals(ctx.store, ctx.incident_id) if p.action is GovAction.PARAMETERS]
        if not existing:
            calls = [(c["component"], bytes.fromhex(c["data"][2:]), c["call"]) for c in rec["calls"]]
            existing = list(
                await propose_parameters(
                    self.client,
                    ctx.store,
                    self.policy,
                    _Verdict(True, rec["evidence_hash"]),
                    calls=calls,
                    severity=self.severity,
                    incident_id=ctx.incident_id,
                    note=rec.get("impact_text", ""),
                )
            )
        for p in existing:
            signed = {s.lower() for s, _, _ in ctx.store.signatures(p.id)}
            for key in self.signer_keys:
                if Signer(key).address.lower() not in signed:
                    await approve(self.client, ctx.store, p.id, key)
        return StepOutcome(
            True,
            {
                "proposal_id": existing[-1].id,
                "proposal_ids": [p.id for p in existing],
                "evidence_hash": rec["evidence_hash"],
                "threshold": existing[-1].threshold,
            },
        )

    async def upgrade(self, ctx: StepContext) -> StepOutcome:
        """For a parameter remedy: the setter calls, executed through the Safe and the timelock."""
        if not self._parameters(ctx):
            return await self.code.upgrade(ctx)
        from bulwark.execute import execute_proposal

        txs: list[str] = []
        checks: list[str] = []
        ok = True
        for pid in ctx.records["approve"]["proposal_ids"]:
            p, _ = load_proposal(ctx.store, pid)
            result = await execute_proposal(
                self.client,
                ctx.store,
                pid,
                sender=self.relayer,
                smoke=self.smoke(p.component),
                time_travel=True,
            )
            txs += result.tx_hashes
            checks += [c.name for c in result.checks]
            ok = ok and result.ok
        return StepOutcome(
            ok,
            {"txs": txs, "checks": checks, "remedy": RemedyKind.PARAMETERS.value},
            reason="post-checks of the parameter change failed",
            failure_state=IncidentState.FAILED,
        )

    async def resume(self, ctx: StepContext) -> StepOutcome:
        if not self._parameters(ctx):
            return await self.code.resume(ctx)
        from bulwark.execute import execute_proposal
        from bulwark.govern import approve, proposals
        from bulwark.govern.parameters import propose_resume

        last = ctx.records["approve"]["proposal_id"]
        existing = {
            p.component: p for p, _ in proposals(ctx.store, ctx.incident_id) if p.action is GovAction.UNPAUSE
        }
        done: list[dict[str, Any]] = []

        proxies = {c: self.protocol.component(c).proxy for c in self.protocol.components}
        for component, proxy in proxies.items():
            if component not in existing and not await is_paused(self.client, proxy):
                continue
            proposal = existing.get(component) or await propose_resume(
                self.client, ctx.store, self.policy, after=last, component=component, severity=self.severity
            )
            signed = {s.lower() for s, _, _ in ctx.store.signatures(proposal.id)}
            for key in self.signer_keys:
                if Signer(key).address.lower() not in signed:
                    await approve(self.client, ctx.store, proposal.id, key)
            result = await execute_proposal(
                self.client,
                ctx.store,
                proposal.id,
                sender=self.relayer,
                smoke=self.smoke(component),
                time_travel=True,
            )
            done.append({"component": component, "proposal_id": proposal.id, "txs": list(result.tx_hashes)})
            if not result.ok:
                return StepOutcome(
                    False,
                    {"unpaused": done},
                    reason=f"unpause of {component} failed its checks",
                    failure_state=IncidentState.FAILED,
                )
        still = [c for c, proxy in proxies.items() if await is_paused(self.client, proxy)]
        if still:
            return StepOutcome(
                False,
                {"unpaused": done},
                reason=f"still paused: {', '.join(still)}",
                failure_state=IncidentState.FAILED,
            )
        return StepOutcome(True, {"unpaused": done})


# ----------------------------------------------------------------------------- a scenario, for the CLI


async def run_scenario_remedy(
    scenario: Scenario, compiler: Compiler, *, benign_txs: int = 12, regress: int = 12, forward_txs: int = 12
) -> dict[str, Any]:
    """Play ``scenario`` on a fresh anvil (benign traffic, then the attack), then search, verify and
    measure its parameter remedy on forks of that chain. Nothing is proposed."""
    from bulwark.chain import ChainClient
    from bulwark.scenarios.benign import BenignTraffic
    from bulwark.scenarios.runner import RunOptions, prepare_scenario
    from bulwark.toolchain.anvil import Anvil, AnvilOptions

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
