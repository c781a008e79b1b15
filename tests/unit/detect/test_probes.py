"""Probes: any view named in the configuration, read before and after a pending transaction; a
move beyond its bound is a finding (critical with a flash loan), and the screener reads it after
the transaction only when the transaction touched the probed contract."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from tests.unit.detect.synth import (
    ATTACK_CONTRACT,
    ATTACKER,
    USD,
    USER,
    VAULT,
    call,
    event,
    transfer_log,
    word,
)
from tests.unit.detect.test_flashloan_trace import _loan

from bulwark.config.loader import parse_config
from bulwark.detect.builtins.probes import ProbeMove
from bulwark.detect.evm import selector
from bulwark.detect.model import ChainView, Probe, ProtocolModel, ProtocolState
from bulwark.detect.screen import Screener
from bulwark.detect.setup import Monitor, build_monitors
from bulwark.detect.snapshot import read_state
from bulwark.domain import Severity
from bulwark.errors import ConfigError

SHARE_PRICE = Probe("sharePrice()", bytes.fromhex(selector("sharePrice()")[2:]), 0.05)


def _view(view: ChainView, before: int = 10**18) -> ChainView:
    p = view.protocol
    contracts = {**p.contracts, VAULT: replace(p.contracts[VAULT], probes=(SHARE_PRICE,))}
    state = replace(view.state, probes={(VAULT, "sharePrice()"): before})
    return ChainView(ProtocolModel(p.name, contracts, p.assets, p.roles, p.flash_lenders), state)


def _moved(after: int, frame: dict[str, Any] | None = None) -> Any:
    ev = event(frame or call(ATTACKER, VAULT, "donate(uint256)"))
    return replace(ev, probes_after={(VAULT, "sharePrice()"): after})


def test_a_probe_beyond_its_bound_is_a_finding_and_within_it_is_not(view: ChainView) -> None:
    v = _view(view)
    [f] = list(ProbeMove()(v, _moved(10**24)))
    assert f.severity is Severity.HIGH and f.contract == VAULT and f.evidence["probe"] == "sharePrice()"
    assert f.evidence["before"] == 10**18 and not f.evidence["flash_loan"]
    assert list(ProbeMove()(v, _moved(10**18 * 104 // 100))) == []  # 4% < 5%
    [down] = list(ProbeMove()(v, _moved(10**18 // 2)))  # a fall counts as much as a rise
    assert down.evidence["move"] == -0.5
    assert list(ProbeMove()(_view(view, before=0), _moved(10**24))) == []  # nothing to compare with


def test_a_probe_move_financed_by_a_flash_loan_is_critical(view: ChainView) -> None:
    frame = _loan([call(ATTACK_CONTRACT, VAULT, "donate(uint256)")])
    [f] = list(ProbeMove()(_view(view), _moved(10**24, frame)))
    assert f.severity is Severity.CRITICAL and f.evidence["flash_loan"]


class ProbeRpc:
    """A node: the vault's share price is 1e18 at the head and 5e18 after the transaction."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, Any]] = []

    async def request(self, method: str, params: Sequence[Any]) -> Any:
        self.calls.append((method, params))
        if method == "eth_call":
            ok = params[0]["to"] == VAULT and params[0]["data"] == selector("sharePrice()")
            return "0x" + word(10**18).hex() if ok else "0x"
        if method == "debug_traceCall":
            return call(USER, VAULT, "donate(uint256)", logs=[transfer_log(USD, USER, VAULT, 5)])
        if method == "eth_simulateV1":
            return [
                {"calls": [{"status": "0x1"}, {"status": "0x1", "returnData": "0x" + word(5 * 10**18).hex()}]}
            ]
        if method in ("eth_blockNumber",):
            return "0x64"
        if method == "eth_getBlockByNumber":
            return {"number": "0x64", "timestamp": "0x10"}
        if method == "eth_getStorageAt":
            return "0x" + "00" * 32
        if method == "eth_getBalance":
            return "0x0"
        raise AssertionError(method)


def test_the_screener_reads_probes_before_and_after(view: ChainView) -> None:
    rpc = ProbeRpc()
    proto = _view(view).protocol
    state = asyncio.run(read_state(rpc, proto))  # type: ignore[arg-type]
    assert state.probes == {(VAULT, "sharePrice()"): 10**18}
    s = Screener(rpc, [Monitor("m", proto, (ProbeMove(),), 0, True)])  # type: ignore[arg-type]
    s._slots[0].view = ChainView(proto, ProtocolState(block_number=100, probes=state.probes))
    tx = event(call(USER, VAULT, "donate(uint256)")).tx
    [f] = asyncio.run(s.screen(tx))
    assert f.evidence["after"] == 5 * 10**18
    simulated = [p for m, p in rpc.calls if m == "eth_simulateV1"]
    assert len(simulated) == 1 and len(simulated[0][0]["blockStateCalls"][0]["calls"]) == 2


def test_probes_from_the_configuration(tmp_path: Path) -> None:
    text = """
version: 1
networks: {local: {chain_id: 31337, rpc_http: "http://127.0.0.1:8545"}}
protocols:
  demo:
    network: local
    contracts:
      vault:
        address: "0x5FC8d32690cc91D4c39d9d3abcBD16989F875707"
        kind: vault
        probes:
          - {call: "sharePrice()", max_move: 0.02}
          - {call: "balanceOf(address)", args: ["0x5FC8d32690cc91D4c39d9d3abcBD16989F875707"]}
monitors: {m: {protocol: demo}}
"""
    [mon] = build_monitors(parse_config(text, path=tmp_path / "b.yaml", base_dir=tmp_path))
    [info] = mon.protocol.contracts.values()
    assert [(p.call, p.max_move) for p in info.probes] == [
        ("sharePrice()", 0.02),
        ("balanceOf(address)", 0.05),
    ]
    assert info.probes[1].data == bytes.fromhex(selector("balanceOf(address)")[2:]) + word(info.address)
    bad = text.replace('args: ["0x5FC8d32690cc91D4c39d9d3abcBD16989F875707"]', "args: []")
    with pytest.raises(ConfigError, match=r"probe balanceOf\(address\): 1 argument\(s\) expected, 0 given"):
        build_monitors(parse_config(bad, path=tmp_path / "b.yaml", base_dir=tmp_path))


def test_config_check_lists_each_contracts_signals_and_what_it_lacks(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import structlog

    from bulwark.cli.main import main

    config = tmp_path / "bulwark.yaml"
    config.write_text("""
version: 1
networks: {local: {chain_id: 31337, rpc_http: "http://127.0.0.1:8545"}}
protocols:
  demo:
    network: local
    contracts:
      pool: {address: "0xCf7Ed3AccA5a467e9e704C703E8D87F634fB0Fc9", kind: amm}
      vault:
        address: "0x5FC8d32690cc91D4c39d9d3abcBD16989F875707"
        kind: vault
        probes: [{call: "sharePrice()"}]
    assets:
      usd: {address: "0x5FbDB2315678afecb367f032d93F642f64180aa3", held_by: [vault]}
monitors: {m: {protocol: demo}}
""")
    try:
        with pytest.raises(SystemExit) as info:
            main(["config", "check", "-c", str(config)])
    finally:
        structlog.reset_defaults()
    out = capsys.readouterr().out
    assert info.value.code in (0, None)
    pool = next(line for line in out.splitlines() if line.startswith("contract demo.pool"))
    assert "lacks a pool price unless it answers getReserves()" in pool and "any value signal" in pool
    vault = next(line for line in out.splitlines() if line.startswith("contract demo.vault"))
    assert "probes sharePrice()" in vault and "holdings of usd" in vault and "lacks probes" not in vault
