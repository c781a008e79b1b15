"""``verify(request) -> Verdict``: every check on one candidate implementation, and the evidence.

    verdict = await verify(VerifyRequest(rpc_url=..., proxy=..., candidate=Path("Fix.sol"),
                                         attack_txs=(...,), regress=50), compiler=compiler)

Order: compile the candidate and the live implementation's source; static checks (storage
layout, upgrade safety, size); then, concurrently, on forks of the live chain: the attack replay
(fork at the block before the attack, candidate installed through ``upgradeToAndCall`` by the
impersonated upgrader) and the regression replay (two forks, original and patched); then the
declared invariants and a short stateful fuzz on the patched fork. Reasons from every check are
collected; the verdict passes only when none is fatal.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from bulwark.chain import ChainClient
from bulwark.chain.convert import to_address
from bulwark.chain.mempool import BatchRpc
from bulwark.domain import Address
from bulwark.domain.verify import (
    AttackReplay,
    Check,
    CostReport,
    FunctionGas,
    Invariant,
    InvariantResult,
    LayoutDiff,
    Reason,
    RegressionReport,
    Verdict,
)
from bulwark.fork.invariants import (
    DEFAULT_EXAMPLES,
    DEFAULT_SEED,
    DEFAULT_STEPS,
    Action,
    Target,
    check_invariants,
    fuzz_invariants,
)
from bulwark.fork.regress import (
    BenignSet,
    broken,
    compare,
    function_gas,
    history_status,
    installed_at,
    replay_pair,
    select_benign,
)
from bulwark.fork.replay import AttackPlan, plan_attack, replay_attack
from bulwark.fork.session import Fork, VerifyError, implementation_of
from bulwark.logs import get_logger
from bulwark.toolchain.paths import project_root
from bulwark.toolchain.solc import Compiler
from bulwark.verify.cost import cost_reasons, cost_report
from bulwark.verify.evidence import make_evidence, sha256_hex
from bulwark.verify.layout import layout_diff
from bulwark.verify.safety import SafetyInput, check_upgrade_safety
from bulwark.verify.slither_checks import slither_upgradeability
from bulwark.verify.sources import Compiled, compile_candidate, find_live_source

__all__ = ["VerifyRequest", "VerifyTimings", "verify", "verify_with_timings"]

log = get_logger(__name__)


@dataclass(frozen=True, slots=True)
class VerifyRequest:
    """What to verify and against what.

    ``protected``: contracts whose assets count as the victims' (the proxy always does);
    ``assets``: tokens to count besides those the attack moved; ``live_source``: the live
    implementation's source (found by bytecode among ``search_roots`` when not given);
    ``fork_block``: where the regression window ends when no attack is given (default: head).
    """

    rpc_url: str = field(repr=False)
    proxy: Address
    candidate: Path
    contract: str | None = None
    live_source: Path | None = None
    live_contract: str | None = None
    attack_txs: tuple[str, ...] = ()
    poc: Path | None = None
    regress: int = 20
    protected: tuple[Address, ...] = ()
    assets: tuple[Address, ...] = ()
    invariants: tuple[Invariant, ...] = ()
    fuzz_examples: int = DEFAULT_EXAMPLES
    fuzz_steps: int = DEFAULT_STEPS
    fuzz_seed: int = DEFAULT_SEED  # the invariant fuzz's seed: same seed, same calls, same verdict
    fork_block: int | None = None
    upgrader: Address | None = None
    defenders: tuple[Address, ...] = ()  # the sentinel/relayer: their txs are not replayed
    price_oracle: Address | None = None  # ``price(address) -> uint256``; nets assets by value
    slither: bool = False  # also run Slither's upgradeability checks (slow; notes only)
    search_roots: tuple[Path, ...] = ()
    max_gas_overhead_pct: float | None = None


@dataclass(slots=True)
class VerifyTimings:
    """Wall-clock seconds per phase (not part of the evidence)."""

    seconds: dict[str, float] = field(default_factory=dict)

    def mark(self, phase: str, started: float) -> float:
        now = time.perf_counter()
        self.seconds[phase] = round(self.seconds.get(phase, 0.0) + now - started, 3)
        return now


async def verify(request: VerifyRequest, *, compiler: Compiler) -> Verdict:
    verdict, _ = await verify_with_timings(request, compiler=compiler)
    return verdict


async def verify_with_timings(request: VerifyRequest, *, compiler: Compiler) -> tuple[Verdict, VerifyTimings]:
    timings = VerifyTimings()
    t = time.perf_counter()
    proxy = to_address(request.proxy)
    live_rpc = BatchRpc(request.rpc_url, max_batch=64, timeout_s=120.0)
    try:
        async with ChainClient(request.rpc_url, timeout_s=60.0) as chain:
            head = await chain.block_number()
            chain_id = await chain.chain_id()
            plan: AttackPlan | None = None
            protected = tuple(dict.fromkeys([proxy, *(to_address(p) for p in request.protected)]))
            if request.attack_txs:
                plan = await plan_attack(
                    live_rpc,
                    request.attack_txs,
                    protected=protected,
                    assets=request.assets,
                    defenders=request.defenders,
                )
            end_block = (
                plan.fork_block if plan else (request.fork_block if request.fork_block is not None else head)
            )
            live_impl = await implementation_of(chain, proxy, end_block)
            live_code = await chain.get_code(live_impl, end_block)
            if not live_code:
                raise VerifyError(f"{proxy} has no ERC-1967 implementation with code at block {end_block}")
        t = timings.mark("chain", t)

        cand = await asyncio.to_thread(compile_candidate, compiler, request.candidate, request.contract)
        live = await asyncio.to_thread(_live_source, compiler, request, live_code, cand.contract)
        t = timings.mark("compile", t)

        reasons: list[Reason] = []
        notes: list[Reason] = []
        layout: LayoutDiff | None = None
        if live is None:
            reasons.append(
                Reason(
                    Check.LAYOUT,
                    "live-source-unknown",
                    str(live_impl),
                    f"no source found whose runtime code equals the live implementation {live_impl}; "
                    "storage layout cannot be checked (pass the live source)",
                )
            )
        else:
            layout = layout_diff(live.result, live.contract, cand.result, cand.contract)
            reasons += [Reason(Check.LAYOUT, c.kind.value, c.label, c.message) for c in layout.errors]
            reasons += check_upgrade_safety(
                SafetyInput(live.result, live.contract, cand.result, cand.contract)
            )
        t = timings.mark("static", t)

        benign = (
            await select_benign(
                live_rpc,
                protected,
                request.regress,
                before_block=end_block,
                exclude=frozenset(request.attack_txs),
                since_block=await installed_at(live_rpc, proxy, end_block),
            )
            if request.regress > 0
            else BenignSet((), (), end_block, {})
        )
        history = await history_status(live_rpc, benign.selected) if benign.selected else {}
        t = timings.mark("select", t)

        init_code = cand.artifact.bytecode
        attack_task = (
            _attack_phase(request, plan, proxy, init_code, live_impl) if plan is not None else _none()
        )
        # The fuzz calls the candidate's functions at the proxy (and the ERC-20s among ``protected``).
        fuzz_target = Target(proxy, cand.artifact.abi)
        regress_task = _regress_phase(
            request, benign, proxy, protected, init_code, live_impl, end_block, history, fuzz_target
        )
        slither_task = (
            asyncio.to_thread(
                slither_upgradeability, live.result, live.contract, cand.result, cand.contract, compiler.root
            )
            if request.slither and live is not None
            else _none()
        )
        attack_out, regress_out, slither_notes = await asyncio.gather(attack_task, regress_task, slither_task)
        notes += slither_notes or ()
        t = timings.mark("forks", t)
    finally:
        await live_rpc.close()

    attack: AttackReplay | None = attack_out[0] if attack_out else None
    if attack_out is not None and attack is None:
        notes.append(
            Reason(Check.ATTACK, "attack-not-replayed", "attack", "the candidate could not be installed")
        )
    reasons += attack_out[1] if attack_out else []
    regression, calls_o, calls_p, invariants, regress_reasons, regress_notes = regress_out
    reasons += regress_reasons
    notes += regress_notes

    names = {"0x" + sel: sig for sig, sel in cand.artifact.method_identifiers.items()}
    gas = function_gas(calls_o, calls_p, proxy, names)
    cost = cost_report(len(live_code), len(cand.artifact.deployed_bytecode), gas)
    reasons += [
        r
        for r in cost_reasons(cost, max_overhead_pct=request.max_gas_overhead_pct)
        if r.code != "code-size" or not any(x.code == "code-size" for x in reasons)
    ]
    t = timings.mark("cost", t)

    document = _document(
        request,
        chain_id,
        proxy,
        live_impl,
        live_code,
        cand,
        live,
        layout,
        attack,
        regression,
        invariants,
        cost,
        reasons,
        notes,
        tuple(tx.hash for tx in benign.selected),
    )
    evidence = make_evidence(document)
    timings.mark("evidence", t)
    verdict = Verdict(
        passed=not any(r.fatal for r in reasons),
        reasons=tuple(reasons),
        layout_ok=layout is not None and layout.ok,
        safety_ok=not any(r.check is Check.SAFETY for r in reasons),
        attack_blocked=attack.blocked if attack is not None else None,
        regressions=len(set(broken(regression))),
        gas_overhead_pct=cost.max_overhead_pct,
        evidence=evidence,
        notes=tuple(notes),
    )
    log.info("verified", proxy=proxy, passed=verdict.passed, reasons=len(reasons), hash=evidence.hash)
    return verdict, timings


async def _none() -> None:
    return None


def _live_source(compiler: Compiler, request: VerifyRequest, live_code: bytes, name: str) -> Compiled | None:
    if request.live_source is not None:
        return compile_candidate(compiler, request.live_source, request.live_contract or name)
    roots = request.search_roots or (project_root() / "contracts", project_root() / "scenarios")
    return find_live_source(compiler, live_code, request.live_contract or name, roots)


async def _attack_phase(
    request: VerifyRequest, plan: AttackPlan, proxy: Address, init_code: bytes, live_impl: Address
) -> tuple[AttackReplay | None, list[Reason]]:
    reasons: list[Reason] = []
    # First the attack against what is live: a replay that does not reproduce the attack proves
    # nothing about the candidate (e.g. a pause left in the window), so the verdict cannot pass.
    async with Fork(request.rpc_url, plan.fork_block) as baseline_fork:
        baseline, _ = await replay_attack(baseline_fork, plan, "live", request.price_oracle)
    if baseline.blocked:
        reasons.append(
            Reason(
                Check.ATTACK,
                "attack-not-reproduced",
                "attack",
                "the attack takes nothing even against the live implementation on the fork, so its "
                "replay cannot show that the candidate stops it (check the attack transactions and "
                "that containment transactions are excluded with --defender)",
            )
        )
    async with Fork(request.rpc_url, plan.fork_block) as fork:
        installed, problem = await fork.install(proxy, init_code, request.upgrader)
        if installed is None:
            reasons.append(
                Reason(
                    Check.SAFETY,
                    "upgrade-path-failed",
                    str(proxy),
                    f"the real upgrade path failed: {problem}",
                )
            )
            return None, reasons
        if await fork.anyone_can_upgrade(proxy, live_impl):
            reasons.append(
                Reason(
                    Check.SAFETY,
                    "authorize-upgrade-open-on-fork",
                    "upgradeToAndCall",
                    "an account with no role could call upgradeToAndCall on the upgraded proxy "
                    "(checked on the fork)",
                )
            )
        report, _ = await replay_attack(fork, plan, installed.how, request.price_oracle)
        invariants: tuple[InvariantResult, ...] = ()
        if request.invariants:
            invariants = await asyncio.to_thread(check_invariants, fork.url, request.invariants)
        if request.poc is not None:
            poc_passed, detail = await asyncio.to_thread(_run_poc, request.poc, fork.url)
            report = _with(report, poc_passed=poc_passed, poc_detail=detail)
        report = _with(report, invariants=invariants)
    if not report.blocked:
        lost = ", ".join(f"{c.asset} {c.delta:+d}" for c in report.victim_losses) or "nothing"
        gained = ", ".join(f"{c.asset} {c.delta:+d}" for c in report.attacker_gains) or "nothing"
        broken_inv = ", ".join(i.name for i in report.invariants if not i.holds)
        detail = f"victims lost {lost}; attacker gained {gained}"
        if report.prices:
            victims, attacker = report.victim_value_delta, report.attacker_value_delta
            detail += f"; by value: victims {victims:+d}, attacker {attacker:+d}"
        if broken_inv:
            detail += f"; invariants broken: {broken_inv}"
        if report.poc_passed:
            detail += "; the PoC test still passes"
        reasons.append(
            Reason(Check.ATTACK, "attack-not-blocked", "attack", f"the attack still works: {detail}")
        )
    return report, reasons


def _with(report: AttackReplay, **changes: Any) -> AttackReplay:
    return replace(report, **changes)


def _run_poc(poc: Path, fork_url: str) -> tuple[bool, str]:
    """Run a Foundry PoC against the fork; True when its tests pass (the exploit still works)."""
    import shutil
    import tempfile

    from bulwark.toolchain.forge import run_tests

    with tempfile.TemporaryDirectory(prefix="bulwark-poc-") as tmp:
        project = Path(tmp)
        (project / "src").mkdir()
        (project / "test").mkdir()
        shutil.copy(poc, project / "test" / poc.name)
        run = run_tests(project, fork_url=fork_url, timeout=300)
    names = ", ".join(f"{t.name}:{'pass' if t.passed else 'fail'}" for t in run.tests)
    return run.passed and bool(run.tests), names


async def _regress_phase(
    request: VerifyRequest,
    benign: BenignSet,
    proxy: Address,
    protected: Sequence[Address],
    init_code: bytes,
    live_impl: Address,
    end_block: int,
    history: Mapping[str, bool],
    fuzz_target: Target,
) -> tuple[
    RegressionReport,
    list[Mapping[str, Any]],
    list[Mapping[str, Any]],
    tuple[InvariantResult, ...],
    list[Reason],
    list[Reason],
]:
    reasons: list[Reason] = []
    notes: list[Reason] = []
    fork_block = benign.fork_block if benign.selected else end_block
    async with Fork(request.rpc_url, fork_block) as original, Fork(request.rpc_url, fork_block) as patched:
        # Same deployer, same nonces: the candidate lands at the same address on both forks, and
        # both spend the same blocks (the original one is re-pointed at its own implementation).
        _, impl_p = await asyncio.gather(original.deploy(init_code), patched.deploy(init_code))
        who = request.upgrader or await patched.find_upgrader(proxy)
        if who is None:
            raise VerifyError(f"no account holding UPGRADER_ROLE or owner() found on {proxy}")
        ok_o, ok_p = await asyncio.gather(
            original.upgrade(proxy, live_impl, who), patched.upgrade(proxy, impl_p, who)
        )
        if not ok_p:
            reasons.append(
                Reason(
                    Check.SAFETY,
                    "upgrade-path-failed",
                    str(proxy),
                    f"upgradeToAndCall({impl_p}) from the upgrader {who} reverts: the candidate cannot "
                    "be installed",
                )
            )
            raise VerifyError(f"upgradeToAndCall to the candidate reverts on the fork (upgrader {who})")
        if not ok_o:
            notes.append(
                Reason(
                    Check.REGRESSION,
                    "baseline-reupgrade-failed",
                    str(proxy),
                    "re-upgrading the original fork to its own implementation failed",
                    fatal=False,
                )
            )
        if await patched.anyone_can_upgrade(proxy, live_impl):
            reasons.append(
                Reason(
                    Check.SAFETY,
                    "authorize-upgrade-open-on-fork",
                    "upgradeToAndCall",
                    "an account with no role can call upgradeToAndCall on the upgraded proxy "
                    "(checked on the fork)",
                )
            )
        if benign.selected:
            out_o, out_p, calls_o, calls_p = await replay_pair(original, patched, benign, protected)
            report = compare(benign.fork_block, out_o, out_p, history)
        else:
            calls_o, calls_p = [], []
            report = RegressionReport(fork_block, 0, ())
        for tx in broken(report):
            reasons.append(
                Reason(
                    Check.REGRESSION,
                    "benign-tx-reverts",
                    tx,
                    f"benign transaction {tx} succeeds on the original implementation and reverts on "
                    "the candidate",
                )
            )
        other = [d for d in report.differences if d.tx_hash not in set(broken(report))]
        for tx in dict.fromkeys(d.tx_hash for d in other):
            aspects = ", ".join(sorted({d.aspect for d in other if d.tx_hash == tx}))
            notes.append(
                Reason(Check.REGRESSION, "benign-tx-differs", tx, f"{tx} differs in {aspects}", fatal=False)
            )
        invariants: tuple[InvariantResult, ...] = ()
        if request.invariants:
            actions = [Action(t.sender, t.to, t.data, t.value) for t in benign.selected if t.to is not None]
            invariants = await asyncio.to_thread(
                fuzz_invariants,
                patched.url,
                request.invariants,
                actions,
                targets=(fuzz_target,),
                contracts=protected,
                seed=request.fuzz_seed,
                examples=request.fuzz_examples,
                steps=request.fuzz_steps,
            )
            for inv in invariants:
                if not inv.holds:
                    reasons.append(
                        Reason(
                            Check.INVARIANT,
                            "invariant-broken",
                            inv.name,
                            f"invariant {inv.name} breaks under fuzzing: {inv.counterexample}",
                        )
                    )
    return report, calls_o, calls_p, invariants, reasons, notes


def _sources(compiled: Compiled) -> dict[str, Any]:
    units = {}
    for path, unit in sorted(compiled.result.sources.items()):
        text = unit.content or ""
        entry: dict[str, Any] = {"sha256": sha256_hex(text)}
        if not path.startswith(("@openzeppelin/", "node_modules/", "@safe-global/")):
            entry["content"] = text
        units[path] = entry
    settings = {k: v for k, v in compiled.result.settings.items() if k != "outputSelection"}
    art = compiled.artifact
    return {
        "contract": f"{art.source_path}:{art.name}",
        "compiler": {"version": compiled.result.long_version, "settings": settings},
        "sources": units,
        "creation_code_sha256": sha256_hex(art.bytecode),
        "runtime_code_sha256": sha256_hex(art.deployed_bytecode),
        # Zeroed in runtime_code_sha256, filled in at deployment: governance masks them to match.
        "immutable_ranges": sorted(
            [r.start, r.length] for refs in art.immutable_references.values() for r in refs
        ),
        "runtime_size": len(art.deployed_bytecode),
    }


def _document(
    request: VerifyRequest,
    chain_id: int,
    proxy: Address,
    live_impl: Address,
    live_code: bytes,
    cand: Compiled,
    live: Compiled | None,
    layout: LayoutDiff | None,
    attack: AttackReplay | None,
    regression: RegressionReport,
    invariants: tuple[InvariantResult, ...],
    cost: CostReport,
    reasons: Sequence[Reason],
    notes: Sequence[Reason],
    benign_txs: Sequence[str],
) -> dict[str, Any]:
    return {
        "pass": not any(r.fatal for r in reasons),
        "chain": {"chain_id": chain_id, "proxy": proxy.lower(), "live_implementation": live_impl.lower()},
        "live": {
            "runtime_code_sha256": sha256_hex(live_code),
            "runtime_size": len(live_code),
            "source": _sources(live) if live is not None else None,
        },
        "candidate": _sources(cand),
        "layout": list(layout.changes) if layout is not None else None,
        "attack": attack,
        "attack_txs": sorted(h.lower() for h in request.attack_txs),
        "regression": regression,
        "invariants": {
            "declared": list(request.invariants),
            "fuzz": list(invariants),
            # what reproduces the fuzz (only when there was one, so other evidence keeps its hash)
            **(
                {"seed": request.fuzz_seed, "examples": request.fuzz_examples, "steps": request.fuzz_steps}
                if request.invariants
                else {}
            ),
        },
        "cost": {
            "size_before": cost.size_before,
            "size_after": cost.size_after,
            "size_delta": cost.size_delta,
            "within_eip170": cost.within_limit,
            "functions": [_gas_json(f) for f in cost.functions],
            "max_overhead_pct": cost.max_overhead_pct,
        },
        "reasons": list(reasons),
        "notes": list(notes),
        # What `bulwark evidence check --rpc` needs to run this verification again on an archive
        # node (with the sources above): the request's inputs and the benign transactions replayed.
        "replay": {
            "contract": request.contract,
            "live_contract": request.live_contract,
            "regress": request.regress,
            "benign_txs": [h.lower() for h in benign_txs],
            "protected": [a.lower() for a in request.protected],
            "assets": [a.lower() for a in request.assets],
            "defenders": [a.lower() for a in request.defenders],
            "upgrader": request.upgrader.lower() if request.upgrader else None,
            "price_oracle": request.price_oracle.lower() if request.price_oracle else None,
            "fork_block": request.fork_block,
            "max_gas_overhead_pct": request.max_gas_overhead_pct,
            "poc": sha256_hex(request.poc.read_bytes()) if request.poc is not None else None,
        },
    }


def _gas_json(f: FunctionGas) -> dict[str, Any]:
    return {
        "selector": f.selector,
        "name": f.name,
        "samples": f.samples,
        "original_median": f.original_median,
        "patched_median": f.patched_median,
        "overhead_pct": f.overhead_pct,
    }
