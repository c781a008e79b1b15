"""A remedy's work on forks: make the admin's calls, replay the attack, replay benign history on
an original and a remedied fork, read the metric probes, and turn it all into an impact report.

Each candidate is screened by replaying the attack on a fork of the block before it, with the
remedy's calls made by the admin (the timelock, impersonated: the same calls its execution will
make). The chosen one is compared on two forks over the last N benign transactions and a forward
simulation; invariants are checked on the remedied fork.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any

from bulwark.chain.abi import decode_result, encode_call
from bulwark.chain.convert import to_bytes, to_int
from bulwark.chain.mempool import BatchRpc
from bulwark.domain import Address
from bulwark.domain.remedy import (
    ImpactReport,
    MetricKind,
    ParameterRemedy,
    Probe,
    RemedyAttempt,
    RemedyKind,
    RemedyRequest,
    TxRun,
)
from bulwark.domain.verify import AttackReplay, RegressionReport
from bulwark.fork.invariants import check_invariants
from bulwark.fork.regress import compare, replay_pair, select_benign
from bulwark.fork.replay import AttackPlan, replay_attack
from bulwark.fork.session import Fork
from bulwark.remedy.impact import Observed, impact_report
from bulwark.remedy.verify import attack_reasons

__all__ = ["apply_calls", "compare_forks", "screen"]


async def apply_calls(fork: Fork, admin: Address, remedy: ParameterRemedy) -> bool:
    await fork.client.set_balance(admin, 10**22)
    for c in remedy.calls:
        rc = await fork.execute(admin, Address(c.target), bytes.fromhex(c.data[2:]), gas=2_000_000)
        if to_int(rc.get("status", 0)) != 1:
            return False
    return True


async def screen(
    request: RemedyRequest, plan: AttackPlan, remedy: ParameterRemedy
) -> tuple[RemedyAttempt, AttackReplay | None]:
    async with Fork(request.rpc_url, plan.fork_block) as fork:
        if not await apply_calls(fork, request.admin, remedy):
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


async def compare_forks(
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
