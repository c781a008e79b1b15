"""What screening skips to stay fast, and that the skip loses nothing: a transaction the pre-filter
passes unsimulated is judged only by detectors that can read a bare transaction; detectors whose
signal a transaction cannot carry leave before walking its call tree; thresholds compared by
cross-multiplying decide exactly as the fractions did."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from typing import Any

import pytest
from tests.unit.detect.synth import (
    ATTACK_CONTRACT,
    ATTACKER,
    E18,
    LENDING,
    USD,
    USER,
    VAULT,
    call,
    event,
    transfer_log,
    word,
)
from tests.unit.detect.synth import protocol as synth_protocol

from bulwark.detect.base import Detector
from bulwark.detect.builtins import reentrancy, unchecked_return
from bulwark.detect.builtins.indicators import IndicatorMatch, IndicatorParams
from bulwark.detect.builtins.invariant import InvariantBreak
from bulwark.detect.builtins.reentrancy import Reentrancy
from bulwark.detect.builtins.share_inflation import ShareInflation
from bulwark.detect.builtins.unchecked_return import UncheckedReturn
from bulwark.detect.evm import selector
from bulwark.detect.model import ChainView, ProtocolState, TxEvent, VaultState
from bulwark.detect.screen import Screener
from bulwark.detect.setup import Monitor
from bulwark.domain import Confidence, Finding, Severity, Transaction, TxHash, VulnClass


class _TraceOnly(Detector):
    ARGUMENT = "test-trace-only"
    HELP = "counts the transactions it is asked to judge"
    IMPACT = Severity.LOW
    CONFIDENCE = Confidence.LOW
    CLASS = VulnClass.INVARIANT_BREAK
    WIKI = "docs/detectors.md"
    JUDGES_BARE_TX = False

    def __init__(self) -> None:
        super().__init__()
        self.seen: list[TxEvent] = []

    def __call__(self, view: ChainView, event: TxEvent) -> Iterable[Finding]:
        self.seen.append(event)
        return ()


def test_a_prefiltered_transaction_is_judged_only_by_detectors_that_read_a_bare_transaction() -> None:
    trace_only = _TraceOnly()
    plain_seen: list[TxEvent] = []

    def plain(view: ChainView, event: TxEvent) -> Iterable[Finding]:  # a plugin that says nothing
        plain_seen.append(event)
        return ()

    listed = IndicatorMatch(IndicatorParams(addresses=frozenset({ATTACKER})))
    monitor = Monitor("m", synth_protocol(), (trace_only, plain, listed), 0, True)  # type: ignore[arg-type]
    screener = Screener(None, [monitor])  # type: ignore[arg-type]  # the pre-filter asks no RPC here
    # A plain transfer of the protocol's token to an unprotected account: passed without simulation.
    tx = Transaction(
        hash=TxHash("0x" + "cd" * 32),
        sender=ATTACKER,
        to=USD,
        value=0,
        data=bytes.fromhex(selector("transfer(address,uint256)")[2:]) + word(USER) + word(E18),
        nonce=0,
        gas=100_000,
    )
    findings = asyncio.run(screener.screen(tx))
    assert screener.stats.skipped == 1
    assert trace_only.seen == []  # it reads only call trees, logs and diffs: nothing to read here
    assert len(plain_seen) == 1  # a detector that does not say is always asked
    assert [f.detector for f in findings] == ["indicator-match"]  # the sender is still caught


@pytest.fixture
def walks(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every full call-tree walk of the re-entrancy and unchecked-return detectors."""
    seen: list[str] = []
    for module, name in ((reentrancy, "_reentries"), (unchecked_return, "_false_transfers")):
        real = getattr(module, name)

        def counting(*args: Any, _real: Any = real, _name: str = name) -> Any:
            seen.append(_name)
            return _real(*args)

        monkeypatch.setattr(module, name, counting)
    return seen


def test_a_call_tree_without_the_signal_is_not_walked_and_one_with_it_still_is(
    view: ChainView, walks: list[str]
) -> None:
    # A deposit: each protected contract entered once, the token transfer answers true.
    ok = (1).to_bytes(32, "big")
    deposit = call(
        USER,
        VAULT,
        "deposit(uint256)",
        word(E18),
        calls=[call(VAULT, USD, "transferFrom(address,address,uint256)", b"", output=ok)],
    )
    assert list(Reentrancy()(view, event(deposit))) == []
    assert list(UncheckedReturn()(view, event(deposit))) == []
    assert walks == []
    # The lending market entered again from the attacker's contract while its frame runs.
    reenter = call(
        ATTACKER,
        LENDING,
        "withdraw(uint256)",
        word(E18),
        calls=[
            call(
                LENDING,
                ATTACK_CONTRACT,
                None,
                calls=[call(ATTACK_CONTRACT, LENDING, "withdraw(uint256)", word(E18))],
            )
        ],
    )
    assert [f.detector for f in Reentrancy()(view, event(reenter))] == ["reentrancy"]
    # A transfer that answered false while the vault carried on.
    ignored = call(
        USER,
        VAULT,
        "deposit(uint256)",
        word(E18),
        calls=[call(VAULT, USD, "transfer(address,uint256)", b"", output=bytes(32))],
    )
    assert [f.detector for f in UncheckedReturn()(view, event(ignored))] == ["unchecked-return"]
    assert {"_reentries", "_false_transfers"} <= set(walks)  # (recursive: once per frame walked)


def _vault_view(view: ChainView, assets: int, supply: int) -> ChainView:
    state = ProtocolState(
        block_number=view.state.block_number,
        holdings=view.state.holdings,
        vaults={VAULT: VaultState(USD, assets, supply)},
    )
    return ChainView(view.protocol, state)


@pytest.mark.parametrize(
    ("donated", "found"),
    [(9 * 1000 - 1, False), (9 * 1000, False), (9 * 1000 + 1, True)],  # jump 10x exactly: not above
)
def test_share_inflation_bound_is_exact_at_the_edge(view: ChainView, donated: int, found: bool) -> None:
    v = _vault_view(view, 1000, 1000)  # one asset unit per share
    raw = call(
        ATTACKER, USD, "transfer(address,uint256)", b"", logs=[transfer_log(USD, ATTACKER, VAULT, donated)]
    )
    assert bool(list(ShareInflation()(v, event(raw)))) is found


@pytest.mark.parametrize(("withdrawn", "found"), [(20, False), (21, True)])  # 2% drop: not above
def test_share_price_drop_bound_is_exact_at_the_edge(view: ChainView, withdrawn: int, found: bool) -> None:
    v = _vault_view(view, 1000, 1000)
    raw = call(ATTACKER, VAULT, "skim()", b"", logs=[transfer_log(USD, VAULT, ATTACKER, withdrawn)])
    titles = [f.title for f in InvariantBreak()(v, event(raw)) if "share price" in f.title]
    assert bool(titles) is found


@pytest.mark.parametrize(("taken", "found"), [(25, False), (26, True)])  # 25% of holdings: not above
def test_outflow_share_bound_is_exact_at_the_edge(view: ChainView, taken: int, found: bool) -> None:
    state = ProtocolState(block_number=view.state.block_number, holdings={(USD, LENDING): 100})
    v = ChainView(view.protocol, state)
    raw = call(ATTACKER, LENDING, "borrow()", b"", logs=[transfer_log(USD, LENDING, ATTACKER, taken)])
    assert bool([f for f in InvariantBreak()(v, event(raw)) if f.contract == LENDING]) is found


def test_a_mint_without_assets_is_not_an_inflation(view: ChainView) -> None:
    v = _vault_view(view, 0, 1000)  # no assets behind the shares: no price to multiply
    raw = call(ATTACKER, VAULT, "mint()", b"", logs=[transfer_log(USD, ATTACKER, VAULT, 10**6)])
    assert list(ShareInflation()(v, event(raw))) == []


def test_an_entry_point_is_classified_once_for_the_diff_decision(monkeypatch: pytest.MonkeyPatch) -> None:
    from bulwark.detect import screen as screen_module

    asked: list[str] = []
    real = screen_module.privileged_signature

    def counting(info: Any, sel: Any) -> Any:
        asked.append(sel)
        return real(info, sel)

    monkeypatch.setattr(screen_module, "privileged_signature", counting)
    screener = Screener(None, [Monitor("m", synth_protocol(), (), 0, True)])  # type: ignore[arg-type]
    deposit = call(USER, VAULT, "deposit(uint256)", word(E18), logs=[transfer_log(USD, USER, VAULT, E18)])
    takeover = call(ATTACKER, VAULT, "transferOwnership(address)", word(ATTACKER))
    for _ in range(3):
        assert not screener._needs_diff(event(deposit))
        assert screener._needs_diff(event(takeover))  # a privileged selector still asks for the diff
    assert sorted(asked) == sorted({selector("deposit(uint256)"), selector("transferOwnership(address)")})
